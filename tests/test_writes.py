"""Output files never destroy anything: inputs, links, devices and existing files are safe.

``io.files.write_text`` is checked on each kind of target, then ``ccp size-fund
--write-case`` end to end: every refusal exits 2 naming the path and the
reason, before anything runs, and leaves the target and its folder as they were.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccpwaterfall.cli.main import create_app
from ccpwaterfall.io.files import check_target, write_text

DEMO_DIR = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp"
DATA_FILES = ("members.csv", "accounts.csv", "instruments.csv", "positions.parquet")


def _folder(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_a_new_file_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.toml"
    assert write_text(target, "a = 1\n") is None
    assert target.read_text(encoding="utf-8") == "a = 1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert _folder(target) == ["out.toml"]


def test_an_existing_file_is_kept_without_force(tmp_path: Path) -> None:
    target = tmp_path / "out.toml"
    target.write_text("mine\n", encoding="utf-8")
    issue = write_text(target, "new\n")
    assert issue is not None
    assert issue.file == str(target)
    assert "already exists: use --force" in issue.message
    assert target.read_text(encoding="utf-8") == "mine\n"
    assert _folder(target) == ["out.toml"]


def test_force_replaces_an_existing_regular_file_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.toml"
    target.write_text("mine\n", encoding="utf-8")
    target.chmod(0o600)
    assert write_text(target, "new\n", force=True) is None
    assert target.read_text(encoding="utf-8") == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _folder(target) == ["out.toml"]


def test_a_read_only_file_is_refused_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "out.toml"
    target.write_text("mine\n", encoding="utf-8")
    target.chmod(0o444)
    issue = write_text(target, "new\n")
    assert issue is not None
    assert "already exists" in issue.message
    assert target.read_text(encoding="utf-8") == "mine\n"
    # Replaced by rename (the folder is writable), never written into.
    assert write_text(target, "new\n", force=True) is None
    assert target.read_text(encoding="utf-8") == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444


@pytest.mark.parametrize("force", [False, True])
def test_a_symbolic_link_is_refused_and_its_target_kept(tmp_path: Path, force: bool) -> None:
    kept = tmp_path / "kept.toml"
    kept.write_text("mine\n", encoding="utf-8")
    link = tmp_path / "link.toml"
    link.symlink_to(kept)
    issue = write_text(link, "new\n", force=force)
    assert issue is not None
    assert "is a symbolic link, not a regular file" in issue.message
    assert link.is_symlink()
    assert kept.read_text(encoding="utf-8") == "mine\n"
    assert _folder(link) == ["kept.toml", "link.toml"]


@pytest.mark.parametrize("force", [False, True])
def test_a_dangling_symbolic_link_is_refused(tmp_path: Path, force: bool) -> None:
    link = tmp_path / "link.toml"
    link.symlink_to(tmp_path / "nowhere.toml")
    issue = write_text(link, "new\n", force=force)
    assert issue is not None
    assert "symbolic link" in issue.message
    assert not (tmp_path / "nowhere.toml").exists()


@pytest.mark.parametrize("force", [False, True])
def test_a_device_is_refused(force: bool) -> None:
    device = Path(os.devnull)
    issue = check_target(device, force=force)
    assert issue is not None
    assert "is a character device, not a regular file" in issue.message
    assert write_text(device, "new\n", force=force) == issue
    assert stat.S_ISCHR(os.lstat(device).st_mode)


@pytest.mark.parametrize("force", [False, True])
def test_a_directory_is_refused(tmp_path: Path, force: bool) -> None:
    folder = tmp_path / "out.toml"
    folder.mkdir()
    issue = write_text(folder, "new\n", force=force)
    assert issue is not None
    assert "is a directory, not a regular file" in issue.message
    assert folder.is_dir()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("force", [False, True])
def test_a_fifo_is_refused(tmp_path: Path, force: bool) -> None:
    fifo = tmp_path / "out.toml"
    os.mkfifo(fifo)
    issue = write_text(fifo, "new\n", force=force)
    assert issue is not None
    assert "is a FIFO, not a regular file" in issue.message
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("force", [False, True])
def test_an_input_is_never_written_over(tmp_path: Path, force: bool) -> None:
    source = tmp_path / "case.toml"
    source.write_text("mine\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    hard_link = tmp_path / "other-name.toml"
    os.link(source, hard_link)
    for spelling in (source, tmp_path / "sub" / ".." / "case.toml", hard_link):
        issue = write_text(spelling, "new\n", force=force, inputs=[source])
        assert issue is not None, spelling
        assert issue.file == str(spelling)
        assert "is an input of this command" in issue.message
    assert source.read_text(encoding="utf-8") == "mine\n"


def test_a_missing_folder_leaves_nothing(tmp_path: Path) -> None:
    issue = write_text(tmp_path / "missing" / "out.toml", "new\n")
    assert issue is not None
    assert "cannot be written" in issue.message
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- the command


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """The demo risk case copied beside its own copies of its data files."""
    for name in DATA_FILES:
        (tmp_path / name).write_bytes((DEMO_DIR / name).read_bytes())
    case = tmp_path / "case.toml"
    case.write_bytes((DEMO_DIR / "case.toml").read_bytes())
    return case


def _size_fund(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(create_app(), ["size-fund", *(str(a) for a in args)])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("name", ["case.toml", *DATA_FILES])
def test_write_case_refuses_an_input_of_the_command(
    demo_copy: Path, name: str, force: bool
) -> None:
    target = demo_copy.parent / name
    before = target.read_bytes()
    code, out, err = _size_fund(demo_copy, "--write-case", target, *(["--force"] if force else []))
    assert code == 2
    assert out == ""
    assert f"{target}: is an input of this command" in err
    assert target.read_bytes() == before
    assert sorted(p.name for p in demo_copy.parent.iterdir()) == sorted(["case.toml", *DATA_FILES])


def test_write_case_refuses_an_existing_file_without_force(demo_copy: Path) -> None:
    target = demo_copy.parent / "drill.toml"
    target.write_text("keep me\n", encoding="utf-8")
    code, _, err = _size_fund(demo_copy, "--write-case", target)
    assert code == 2
    assert f"{target}: already exists: use --force to replace it" in err
    assert target.read_text(encoding="utf-8") == "keep me\n"


def test_write_case_refuses_a_symbolic_link_even_with_force(demo_copy: Path) -> None:
    kept = demo_copy.parent / "kept.toml"
    kept.write_text("keep me\n", encoding="utf-8")
    link = demo_copy.parent / "drill.toml"
    link.symlink_to(kept)
    code, _, err = _size_fund(demo_copy, "--write-case", link, "--force")
    assert code == 2
    assert f"{link}: is a symbolic link, not a regular file" in err
    assert kept.read_text(encoding="utf-8") == "keep me\n"
    assert link.is_symlink()


def test_write_case_refuses_a_device_even_with_force(demo_copy: Path) -> None:
    code, _, err = _size_fund(demo_copy, "--write-case", os.devnull, "--force")
    assert code == 2
    assert f"{os.devnull}: is a character device, not a regular file" in err


def test_write_case_with_force_replaces_an_existing_file(demo_copy: Path) -> None:
    target = demo_copy.parent / "drill.toml"
    target.write_text("old\n", encoding="utf-8")
    code, out, err = _size_fund(demo_copy, "--write-case", target, "--force")
    assert code == 0, err
    assert f"to {target}" in out
    assert target.read_text(encoding="utf-8").startswith('format = "ccp-case/1"\n')
