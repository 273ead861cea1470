"""The local platform simulator: a fictitious brand's conversation served in real API formats.

``World`` generates the posts (world.py, texts.py), ``wire`` renders them as each platform's
API does, ``api`` implements the endpoints and their paging, and ``SimulatorServer`` serves
them over HTTP on loopback with a controllable clock and injectable faults.
"""

from monitoring.simulator.server import FAULT_KINDS, SimulatorServer
from monitoring.simulator.world import SIMULATED_PLATFORMS, Kind, SimAuthor, SimPost, Topic, World

__all__ = [
    "FAULT_KINDS",
    "SIMULATED_PLATFORMS",
    "Kind",
    "SimAuthor",
    "SimPost",
    "SimulatorServer",
    "Topic",
    "World",
]
