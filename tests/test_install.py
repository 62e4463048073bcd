"""smsbot installed as a package, not through `make`: a wheel in a fresh virtual environment,
run from another directory, speaks every language of the shipped program."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel built from this tree; its dependencies are this test
    run's (a plain path entry, so no editable install of the source tree leaks in)."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = work.glob("smsbot-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", site, str(wheel)],
        check=True,
        capture_output=True,
    )
    return python


def chat(python: Path, cwd: Path, env: dict[str, str], phone: str, lines: str) -> str:
    done = subprocess.run(
        [str(python), "-m", "bot", "chat", phone],
        input=lines,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_wheel_serves_the_shipped_program_in_english_spanish_and_french(
    installed: Path, tmp_path: Path, database_url: str, redis_url: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SMSBOT_KEYWORDS_DIR")},
        "SMSBOT_CONFIG": str(ROOT / "config.yaml"),
        "SMSBOT_DATA_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SMSBOT_REDIS_PREFIX": f"wheel-{tmp_path.name}:",
    }
    where = subprocess.run(
        [str(installed), "-c", "import bot; print(bot.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(str(installed.parent.parent)), where  # the wheel's copy, not the source tree
    assert "Reply STOP to opt out" in chat(installed, elsewhere, env, "+14155550123", "HELP\n")
    spanish = chat(installed, elsewhere, env, "+14155550124", "ALTO\n")
    assert "Cancelaste tu suscripción" in spanish, spanish
    french = chat(installed, elsewhere, env, "+15145550125", "ARRET\n")
    assert "désabonné" in french, french
    read = chat(installed, elsewhere, env, "+14155550126", "JOIN\nLet me out of this list\n")
    assert "read as request: a request to the model" in read, read  # the model ships in the wheel


def test_the_sdist_carries_the_catalogs_from_their_top_level_folder(tmp_path: Path) -> None:
    """Translators edit locales/ at the top of the tree; the source archive ships it, so a wheel
    built from the archive (as pip does with `pip install smsbot-*.tar.gz`) carries it as well."""
    built = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from setuptools import build_meta; print(build_meta.build_sdist({str(tmp_path)!r}))",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    archive = tmp_path / built.stdout.strip().splitlines()[-1]
    names = subprocess.run(["tar", "tzf", str(archive)], check=True, capture_output=True, text=True).stdout
    for language in ("en", "es", "fr"):
        assert f"/locales/{language}/LC_MESSAGES/messages.po" in names
    assert "/bot/locales/" not in names  # one copy, where translators keep it


def test_the_wheel_carries_the_catalogs_inside_the_package(installed: Path) -> None:
    found = subprocess.run(
        [
            str(installed),
            "-c",
            "from bot.domain.i18n import LOCALES_DIR, available; print(LOCALES_DIR, available())",
        ],
        cwd=installed.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "site-packages/bot/locales" in found and "('en', 'es', 'fr')" in found
