#!/usr/bin/python3
"""FastAPI + uvicorn, the peer of troupe-bench-http: the same two endpoints and JSON shapes as the
head's, over a predictor that answers at once (10 fixed outputs a row), so both sides measure
only their HTTP and JSON front end.  Usage: http_peer.py PORT
"""
import sys
from typing import List, Union

import uvicorn
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

app = FastAPI()
TOKEN = "Bearer troupe_" + "b" * 64
OUTPUTS = [0.1] * 10


class Predict(BaseModel):
    features: Union[List[List[float]], List[float]]


class Tensor(BaseModel):
    name: str
    shape: List[int]
    datatype: str
    data: list


class Infer(BaseModel):
    inputs: List[Tensor]


def check(authorization):
    if authorization != TOKEN:
        raise HTTPException(status_code=401, detail="unknown token")


@app.post("/v1/models/{name}/predict")
def predict(name: str, body: Predict, authorization: str = Header(None)):
    check(authorization)
    rows = len(body.features) if body.features and isinstance(body.features[0], list) else 1
    return {"predictions": [0] * rows, "probabilities": [OUTPUTS] * rows, "model_version": 1}


@app.post("/v2/models/{name}/infer")
def infer(name: str, body: Infer, authorization: str = Header(None)):
    check(authorization)
    rows = body.inputs[0].shape[0]
    return {"model_name": name, "model_version": "1",
            "outputs": [{"name": "probabilities", "datatype": "FP32", "shape": [rows, 10],
                         "data": OUTPUTS * rows}]}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
