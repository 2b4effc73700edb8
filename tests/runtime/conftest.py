"""Shared fixtures for the runtime's own tests: a fresh project folder per test."""

from __future__ import annotations

from pathlib import Path

import pytest

import cat


@pytest.fixture
async def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty Cat project whose database is ``data/core/core.db`` inside it."""
    monkeypatch.delenv("CAT_SQL", raising=False)
    monkeypatch.delenv("CAT_PROJECT_DIR", raising=False)
    cat.configure(project=tmp_path)
    yield tmp_path
    await cat.close()
    cat.configure()
