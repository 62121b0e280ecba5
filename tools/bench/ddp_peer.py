"""PyTorch's own DDP on troupe-bench-train's workload: the peer a 2-rank train job is measured
against. troupe-bench-train writes the rows (Troupe's synthetic generator, standardised as its
trainer does) and runs this with Debian's python3-torch (/usr/bin/python3):

  ddp_peer.py FEATURES LABELS --rows N --features F [--world-size 2] [--batch 256] ...

Each rank is its own process (torch.multiprocessing.spawn: torch.distributed.run crashes on
Python 3.11), gloo over loopback, one torch thread and one BLAS thread each. The model is the
one the trainer builds (Linear layers with torch's default initialisation, from the same seed),
SGD with momentum, DistributedSampler semantics for the shards, batches indexed from one
in-memory tensor (no DataLoader: the peer gets its best settings, as the trainer does).

Prints one JSON object: samples/s over all ranks in the steady window (from the end of the
first step that is a multiple of --report-every to the end of the last one, as the benchmark
measures every peer), samples per second of the ranks' process CPU time in that window, and the
final model's mean cross-entropy over all rows.
"""

import os

# Before torch loads: OpenBLAS reads its thread count once.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

import numpy  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402
from torch.utils.data.distributed import DistributedSampler  # noqa: E402


def load_rows(args):
    features = numpy.fromfile(args.features_file, dtype=numpy.float32)
    labels = numpy.fromfile(args.labels_file, dtype=numpy.int64)
    x = torch.from_numpy(features).reshape(args.rows, args.features)
    y = torch.from_numpy(labels)
    if y.numel() != args.rows:
        raise SystemExit(f"{args.labels_file}: {y.numel()} labels for {args.rows} rows")
    return x, y


def mlp(layers):
    modules = []
    for i in range(len(layers) - 1):
        modules.append(torch.nn.Linear(layers[i], layers[i + 1]))
        if i + 2 < len(layers):
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def rank_main(rank, args, results):
    torch.set_num_threads(1)
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(args.world_size),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(args.port))
    dist.init_process_group("gloo", init_method="env://")
    x, y = load_rows(args)
    torch.manual_seed(args.seed)
    model = DistributedDataParallel(mlp(args.layers), gradient_as_bucket_view=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    sampler = DistributedSampler(range(args.rows), num_replicas=args.world_size, rank=rank,
                                 shuffle=True, seed=args.seed)
    sampler.set_epoch(0)
    shard = torch.tensor(list(sampler), dtype=torch.long)
    reports = []  # (step, wall seconds, CPU seconds) at every --report-every steps
    for step, start in enumerate(range(0, shard.numel(), args.batch), start=1):
        index = shard[start:start + args.batch]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x.index_select(0, index)), y.index_select(0, index))
        loss.backward()
        optimizer.step()
        if step % args.report_every == 0:
            loss.item()  # what a Troupe step report reads
            reports.append((step, time.perf_counter(), time.process_time()))
    result = {"rank": rank, "samples": 0, "seconds": 0.0, "cpu_seconds": 0.0}
    if len(reports) >= 2:
        (first_step, first_s, first_cpu), (last_step, last_s, last_cpu) = reports[0], reports[-1]
        result.update(samples=(last_step - first_step) * args.batch, seconds=last_s - first_s,
                      cpu_seconds=last_cpu - first_cpu)
    if rank == 0:
        with torch.no_grad():
            model.eval()
            result["final_loss"] = F.cross_entropy(model.module(x), y).item()
    results.put(result)
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("features_file")
    parser.add_argument("labels_file")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--features", type=int, required=True)
    parser.add_argument("--layers", type=int, nargs="+", default=[64, 256, 256, 10])
    parser.add_argument("--world-size", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256, help="per rank")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--report-every", type=int, default=50)
    args = parser.parse_args()
    args.port = free_port()
    context = mp.get_context("spawn")
    results = context.SimpleQueue()
    mp.spawn(rank_main, args=(args, results), nprocs=args.world_size, join=True)
    ranks = [results.get() for _ in range(args.world_size)]
    cpu_seconds = sum(r["cpu_seconds"] for r in ranks)
    print(json.dumps({
        "samples_per_s": sum(r["samples"] / r["seconds"] for r in ranks if r["seconds"] > 0),
        "samples_per_cpu_s": sum(r["samples"] for r in ranks) / cpu_seconds if cpu_seconds else 0,
        "final_loss": next(r["final_loss"] for r in ranks if r["rank"] == 0),
    }))


if __name__ == "__main__":
    main()
