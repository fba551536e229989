"""Deterministic simulation of partitioned networks over the real sync protocol."""

from assemblymesh.sim.network import SimNode, Simulator, VirtualClock

__all__ = ["SimNode", "Simulator", "VirtualClock"]
