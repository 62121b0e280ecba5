# The benchmark's peer for serving (tools/bench, troupe-bench-serve): the same TorchScript model
# behind FastAPI + uvicorn, the way people serve one beside their training stack today. Run as
#   TROUPE_PEER_MODEL=mlp.pt python3 -m uvicorn fastapi_peer:app --workers 2 --port P
# One torch thread per worker and OPENBLAS_NUM_THREADS=1 (set by the benchmark).
import os

import torch
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from typing import List, Union

torch.set_num_threads(1)
model = torch.jit.load(os.environ["TROUPE_PEER_MODEL"])
model.eval()
app = FastAPI()


class PredictRequest(BaseModel):
    features: Union[List[float], List[List[float]]]


@app.post("/v1/models/{name}/predict")
def predict(name: str, request: PredictRequest):
    rows = request.features
    if rows and not isinstance(rows[0], list):
        rows = [rows]
    try:
        x = torch.tensor(rows, dtype=torch.float32)
        with torch.no_grad():
            probabilities = model(x)
    except RuntimeError as e:
        raise HTTPException(status_code=400, detail=str(e))
    return {
        "predictions": probabilities.argmax(dim=1).tolist(),
        "probabilities": probabilities.tolist(),
        "model_version": 1,
    }
