"""tox plugin, loaded by tox itself: let it find every installed Python, not only the active one.

A version manager such as pyenv puts one `python3.12` shim on PATH, and the shim answers only
for the versions that are active; an installed 3.12 that is not active stays invisible, and the
`py312` environments would be skipped. Here each interpreter that pyenv installed is offered to
tox's discovery; tox still picks by version, and without pyenv nothing changes.
"""

import os
from pathlib import Path

from tox.config.sets import ConfigSet
from tox.plugin import impl
from tox.session.state import State


def _installed_by_pyenv() -> list[str]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    return [str(python) for python in sorted(root.glob("versions/3.*/bin/python3")) if python.is_file()]


@impl
def tox_add_core_config(core_conf: ConfigSet, state: State) -> None:
    state.conf.options.discover = [*state.conf.options.discover, *_installed_by_pyenv()]
