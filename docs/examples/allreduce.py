#!/usr/bin/env python3
"""All-reduce check for a gang job: every rank contributes ones * (rank + 1), and every rank
checks that the sum is n(n+1)/2. Uses only the torchrun environment (RANK, WORLD_SIZE,
MASTER_ADDR, MASTER_PORT), so it runs unchanged under Troupe, torchrun or Slurm.
Exits 0 when the sum is right, 1 otherwise."""
import sys

import torch
import torch.distributed as dist


def main():
    dist.init_process_group("gloo", init_method="env://")
    rank = dist.get_rank()
    world_size = dist.get_world_size()
    tensor = torch.ones(4) * (rank + 1)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    expected = world_size * (world_size + 1) / 2
    ok = bool(torch.all(tensor == expected))
    print(f"rank {rank} of {world_size}: sum {tensor[0].item():g}, expected {expected:g}: "
          f"{'ok' if ok else 'WRONG'}", flush=True)
    dist.destroy_process_group()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
