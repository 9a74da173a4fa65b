"""A small DistributedDataParallel training run on gloo (CPU): a linear model learns y = 3x + 1 from each
rank's own shard; the loss must fall and the replicas' weights must agree at the end."""

import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(rank)
x = torch.randn(256, 1)
y = 3 * x + 1
model = DistributedDataParallel(torch.nn.Linear(1, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
losses = []
for _ in range(60):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
weights = torch.cat([p.detach().flatten() for p in model.parameters()])
gathered = [torch.zeros_like(weights) for _ in range(world)]
dist.all_gather(gathered, weights)
assert all(torch.allclose(gathered[0], other) for other in gathered), gathered
assert losses[-1] < losses[0] / 10, losses
print(f"rank {rank}/{world} pid {os.getpid()}: loss {losses[0]:.3f} -> {losses[-1]:.5f}, "
      f"weight {weights[0]:.2f} bias {weights[1]:.2f}", flush=True)
dist.destroy_process_group()
