"""A tiny repository of the same code in several languages, with prose and config beside it
(find-similar tests: the cross-language twin first, non-code only when asked)."""

from __future__ import annotations

from pathlib import Path

SHAPES = {
    "py/shapes.py": "import math\n\n\ndef circle_area(radius):\n    return math.pi * radius ** 2\n",
    "js/shapes.js": "function circleArea(radius) {\n  return Math.PI * radius ** 2;\n}\n",
    "js/strings.js": "function joinWords(words) {\n  return words.join(' ');\n}\n",
    "go/retry.go": "package retry\n\nfunc Twice(f func() error) error {\n\tif f() != nil {\n"
    "\t\treturn f()\n\t}\n\treturn nil\n}\n",
    "README.md": "# Shapes\n\nThe area of a circle: pi times the radius squared.\n",
    "shapes.toml": "[circle]\narea = 'pi * radius ** 2'\n",
}


def write_shapes(root: Path) -> Path:
    for rel, text in SHAPES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root
