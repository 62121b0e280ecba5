"""The predict job test's model and data, and its check of a job's result (tests/integration/
predict_test.cpp), with Debian's python3-torch:
  predict_rows.py make DIR ROWS   -> DIR/model.pt (a scripted MLP 6->16->3) and DIR/rows.csv
  predict_rows.py check DIR       -> compares DIR/result.csv with the model's own forward pass
                                     of DIR/rows.csv, row for row; prints "ok" or the mismatch
"""
import csv
import sys

import torch

FEATURES = 6
CLASSES = ["food", "rent", "travel"]


def make(directory, rows):
    torch.manual_seed(3)
    model = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, 16), torch.nn.ReLU(), torch.nn.Linear(16, len(CLASSES)))
    torch.jit.script(model).save(directory + "/model.pt")
    generator = torch.Generator().manual_seed(5)
    values = torch.randn(rows, FEATURES, generator=generator) * 3
    with open(directory + "/rows.csv", "w") as out:
        out.write("txn," + ",".join("f%d" % i for i in range(FEATURES)) + "\n")
        for r in range(rows):
            out.write("t%05d," % r + ",".join(repr(float(v)) for v in values[r].tolist()) + "\n")


def check(directory):
    with open(directory + "/rows.csv") as f:
        rows = list(csv.reader(f))[1:]
    with open(directory + "/result.csv") as f:
        result = list(csv.reader(f))
    expected_header = ["id", "prediction"] + ["p_" + c for c in CLASSES]
    if result[0] != expected_header:
        return "header %r, expected %r" % (result[0], expected_header)
    result = result[1:]
    if len(result) != len(rows):
        return "%d rows, expected %d" % (len(result), len(rows))
    model = torch.jit.load(directory + "/model.pt")
    x = torch.tensor([[float(v) for v in r[1:]] for r in rows], dtype=torch.float32)
    with torch.no_grad():
        p = torch.softmax(model(x), dim=1)
    for i, (row, got) in enumerate(zip(rows, result)):
        if got[0] != row[0]:
            return "row %d: id %s, expected %s" % (i, got[0], row[0])
        label = CLASSES[int(p[i].argmax())]
        if got[1] != label:
            return "row %d (%s): prediction %s, expected %s" % (i, row[0], got[1], label)
        for c in range(len(CLASSES)):
            if abs(float(got[2 + c]) - float(p[i][c])) > 1e-5:
                return "row %d (%s): p_%s %s, expected %r" % (
                    i, row[0], CLASSES[c], got[2 + c], float(p[i][c]))
    return "ok"


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        print(check(sys.argv[2]))
