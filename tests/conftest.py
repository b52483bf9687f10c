"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest
from browser_helpers import launch, need

from tcnn_widgets import TiledCNN


@pytest.fixture(scope="session")
def tiny_network() -> TiledCNN:
    """A random 4-map tiled CNN on 6 x 6 images: 3 x 3 fields, 2 x 2 pooling, 4 x 4 units."""
    return TiledCNN.random(maps=4, tile=2, field=3, pool=2, image_size=6, seed=0)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (a missing one fails with CI=true, else skips)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("the Python package playwright", False)
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
