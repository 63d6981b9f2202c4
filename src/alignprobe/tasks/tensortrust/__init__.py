"""TensorTrust: keeping a defence's access code and refusing hijacks (see README.md here)."""

from alignprobe.tasks.tensortrust import scripts as _scripts  # noqa: F401  - test models
from alignprobe.tasks.tensortrust.task import tensortrust

__all__ = ["tensortrust"]
