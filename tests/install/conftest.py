"""Session fixtures for the packaging tests: this checkout's wheels and the cached wheelhouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from environments import Venv, build_wheels, wheelhouse


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_wheels(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def house(wheels: dict[str, Path]) -> Path:
    return wheelhouse(wheels)


@pytest.fixture
def new_venv(tmp_path: Path, house: Path, wheels: dict[str, Path]):
    """Make a fresh, empty virtual environment: ``new_venv("name")``."""

    def make(name: str) -> Venv:
        return Venv.create(tmp_path / name, house, wheels)

    return make
