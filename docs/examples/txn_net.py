#!/usr/bin/python3
"""Scripts a small residual network for the transaction categories and saves it as TorchScript,
the form a `train` job's `model: {type: torchscript, path: NAME}` trains
(docs/examples/train-torchscript.yaml). A rank calls forward() on a float32 batch of shape
[batch, features] and expects [batch, classes] logits (classification) or [batch, 1]
(regression); its parameters are the module's parameters().

    /usr/bin/python3 docs/examples/txn_net.py txn-net.pt
"""

import sys

import torch


class Block(torch.nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.norm = torch.nn.LayerNorm(width)
        self.linear = torch.nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.linear(torch.nn.functional.gelu(self.norm(x)))


class TxnNet(torch.nn.Module):
    def __init__(self, features: int = 64, width: int = 128, classes: int = 10):
        super().__init__()
        self.stem = torch.nn.Linear(features, width)
        self.blocks = torch.nn.Sequential(Block(width), Block(width))
        self.head = torch.nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.jit.script(TxnNet()).save(sys.argv[1] if len(sys.argv) > 1 else "txn-net.pt")
