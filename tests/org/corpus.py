"""A small multi-language repository with known answers."""

FILES = {
    "src/geometry.py": '''"""Shapes."""

import math


class Circle:
    def __init__(self, radius):
        self.radius = radius

    def area(self):
        """Area of the circle."""
        return math.pi * self.radius ** 2


def distance(a, b):
    """Euclidean distance between two points."""
    return math.hypot(a[0] - b[0], a[1] - b[1])
''',
    "src/config_loader.py": '''import json


def load_settings(path):
    """Read the JSON settings file and merge it over the defaults."""
    with open(path) as fh:
        data = json.load(fh)
    return {**DEFAULTS, **data}


def slugify(title):
    """Turn a title into a URL slug."""
    return "-".join(title.lower().split())
''',
    "server/retry.go": """package server

import "time"

// Retry calls fn until it succeeds, sleeping with exponential backoff between attempts.
func Retry(attempts int, fn func() error) error {
	delay := time.Millisecond * 100
	var err error
	for i := 0; i < attempts; i++ {
		if err = fn(); err == nil {
			return nil
		}
		time.Sleep(delay)
		delay *= 2
	}
	return err
}
""",
    "web/cart.ts": """export interface Item { price: number; quantity: number }

// Sum the prices of every item in the shopping cart.
export function cartTotal(items: Item[]): number {
  return items.reduce((sum, item) => sum + item.price * item.quantity, 0);
}

export function applyDiscount(total: number, percent: number): number {
  return total * (1 - percent / 100);
}
""",
    "db/users.sql": """CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE, created_at TIMESTAMP);
""",
    "tests/test_geometry.py": """from src.geometry import Circle, distance


def test_circle_area():
    assert Circle(1).area() > 3


def test_distance():
    assert distance((0, 0), (3, 4)) == 5
""",
    "README.md": "# Sample\n\nA sample repository for search tests: geometry, settings, retries, a cart.\n",
}

# query -> (path, symbol) of the best answer
QUERIES = {
    "area of a circle": ("src/geometry.py", "Circle.area"),
    "euclidean distance between points": ("src/geometry.py", "distance"),
    "load the json settings file": ("src/config_loader.py", "load_settings"),
    "turn a title into a url slug": ("src/config_loader.py", "slugify"),
    "retry with exponential backoff": ("server/retry.go", "Retry"),
    "total price of the shopping cart": ("web/cart.ts", "cartTotal"),
    "applyDiscount": ("web/cart.ts", "applyDiscount"),
}
