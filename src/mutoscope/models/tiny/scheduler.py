"""The flow-matching Euler sampler of ``mutoscope-tiny``, without importing diffusers.

It computes exactly what diffusers' ``FlowMatchEulerDiscreteScheduler(num_train_timesteps,
shift)`` computes with its defaults (a test compares them): sigmas spaced evenly in time
between the shifted ends of the training schedule, shifted again (as diffusers does), and an
Euler step along the predicted velocity. Importing diffusers for it costs seconds.
"""

from __future__ import annotations

import numpy as np
import torch


class FlowMatchEuler:
    def __init__(self, shift: float, num_train_timesteps: int = 1000) -> None:
        self.shift = shift
        self.num_train_timesteps = num_train_timesteps
        first = torch.tensor(1.0 / num_train_timesteps, dtype=torch.float32)
        self.sigma_min = float(self._shift(first))  # the training schedule's last sigma
        self.timesteps = torch.empty(0)
        self.sigmas = torch.empty(0)
        self._index = 0

    def _shift(self, sigmas: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        return self.shift * sigmas / (1 + (self.shift - 1) * sigmas)

    def set_timesteps(self, steps: int) -> None:
        n = self.num_train_timesteps
        sigmas = self._shift(np.linspace(n, self.sigma_min * n, steps) / n)
        shifted = torch.from_numpy(np.asarray(sigmas)).to(torch.float32)
        self.timesteps = shifted * n
        self.sigmas = torch.cat([shifted, torch.zeros(1)])
        self._index = 0

    def set_begin_index(self, index: int) -> None:
        """Start at step ``index`` (SDEdit: the first steps are skipped)."""
        self._index = index

    def step(self, velocity: torch.Tensor, sample: torch.Tensor) -> torch.Tensor:
        """One Euler step from the current sigma to the next."""
        dt = self.sigmas[self._index + 1] - self.sigmas[self._index]
        self._index += 1
        return (sample.to(torch.float32) + dt * velocity).to(velocity.dtype)
