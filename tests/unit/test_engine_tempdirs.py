"""Engine scratch directories in /tmp are made by mkdtemp (atomic, 0700, unguessable), never from a
fixed or guessable pattern another local user could plant a symlink at first."""

from __future__ import annotations

import stat
from pathlib import Path

from pare.engines.buildah import load_dir
from pare.oci.reference import Reference


def test_load_dirs_are_private_new_and_valid_image_names(tmp_path: Path) -> None:
    """Guards engines/buildah.py's `/tmp/pare-load-{pid}-{ns}`: the load directory must be created
    fresh (not reused if it exists), private, and still usable as an `oci:` image name."""
    parent = tmp_path / "tmp"
    parent.mkdir()
    made = [load_dir(parent) for _ in range(300)]
    assert len(set(made)) == 300
    for path in made:
        assert path.parent == parent and path.name.startswith("pare-load-")
        assert stat.S_IMODE(path.stat().st_mode) == 0o700 and not path.is_symlink()
        Reference.parse(f"localhost{path}")  # buildah names the pulled image after the path
    assert sorted(parent.iterdir()) == sorted(made)  # the rejected names were removed again
