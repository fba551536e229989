"""AssemblyMesh: the record of an assembly that decides by consent, kept on every node."""

from assemblymesh.errors import AssemblyMeshError

__all__ = ["AssemblyMeshError", "__version__"]
__version__ = "0.1.0"
