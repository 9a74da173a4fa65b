"""A torch.distributed all-reduce over gloo: each rank contributes rank + 1; every rank checks the sum."""

import os

import torch
import torch.distributed as dist

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
assert world == int(os.environ["WORLD_SIZE"]) and rank == int(os.environ["RANK"])
tensor = torch.tensor([float(rank + 1)])
dist.all_reduce(tensor)
expected = world * (world + 1) / 2
assert tensor.item() == expected, (tensor.item(), expected)
print(f"rank {rank}/{world} pid {os.getpid()}: all-reduce sum {tensor.item():g}", flush=True)
dist.destroy_process_group()
