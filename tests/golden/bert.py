"""Golden files for BERT sequence classification: a tiny random-weight checkpoint in Hugging Face's layout and the
logits, loss and gradients PyTorch computes for a padded batch.

No GPU machine (and so no `transformers`) was lent to the issue that added this: the model is a plain functional
re-implementation of Hugging Face's BertForSequenceClassification (eval mode), in PyTorch on the CPU.
Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/bert.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from safetensors_io import save_file

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bert-tiny-cls")
CONFIG = {
    "model_type": "bert",
    "architectures": ["BertForSequenceClassification"],
    "vocab_size": 30,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "hidden_act": "gelu",
    "max_position_embeddings": 16,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "num_labels": 3,
    "pad_token_id": 0,
}


def main():
    os.makedirs(HERE, exist_ok=True)
    cfg = CONFIG
    g = torch.Generator().manual_seed(7)
    c, ff, h = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_attention_heads"]
    d = c // h

    def lin(name, o, i):
        w[name + ".weight"] = torch.randn(o, i, generator=g) / math.sqrt(i)
        w[name + ".bias"] = 0.1 * torch.randn(o, generator=g)

    def ln(name):
        w[name + ".weight"] = 1 + 0.1 * torch.randn(c, generator=g)
        w[name + ".bias"] = 0.1 * torch.randn(c, generator=g)

    w = {
        "bert.embeddings.word_embeddings.weight": torch.randn(cfg["vocab_size"], c, generator=g) * 0.5,
        "bert.embeddings.position_embeddings.weight": torch.randn(cfg["max_position_embeddings"], c, generator=g) * 0.5,
        "bert.embeddings.token_type_embeddings.weight": torch.randn(cfg["type_vocab_size"], c, generator=g) * 0.5,
    }
    ln("bert.embeddings.LayerNorm")
    for i in range(cfg["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}."
        for n in ("query", "key", "value"):
            lin(p + "attention.self." + n, c, c)
        lin(p + "attention.output.dense", c, c)
        ln(p + "attention.output.LayerNorm")
        lin(p + "intermediate.dense", ff, c)
        lin(p + "output.dense", c, ff)
        ln(p + "output.LayerNorm")
    lin("bert.pooler.dense", c, c)
    lin("classifier", cfg["num_labels"], c)

    ids = torch.randint(1, cfg["vocab_size"], (3, 9), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    ids[mask == 0] = 0
    types = torch.zeros_like(ids)
    types[0, 5:] = 1
    labels = torch.tensor([1, 2, 0])
    for t in w.values():
        t.requires_grad_(True)

    eps = cfg["layer_norm_eps"]
    b, t = ids.shape
    x = w["bert.embeddings.word_embeddings.weight"][ids] + w["bert.embeddings.position_embeddings.weight"][torch.arange(t)] + w["bert.embeddings.token_type_embeddings.weight"][types]
    x = F.layer_norm(x, (c,), w["bert.embeddings.LayerNorm.weight"], w["bert.embeddings.LayerNorm.bias"], eps)
    ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    L = lambda name, z: z @ w[name + ".weight"].T + w[name + ".bias"]
    for i in range(cfg["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}."
        q, k, v = (L(p + "attention.self." + n, x).view(b, t, h, d).transpose(1, 2) for n in ("query", "key", "value"))
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(d) + ext).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        a = F.layer_norm(L(p + "attention.output.dense", y) + x, (c,), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        m = F.gelu(L(p + "intermediate.dense", a))
        x = F.layer_norm(L(p + "output.dense", m) + a, (c,), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    pooled = torch.tanh(L("bert.pooler.dense", x[:, 0]))
    logits = L("classifier", pooled)
    loss = F.cross_entropy(logits, labels)
    loss.backward()

    save_file({k: t.detach() for k, t in w.items()}, os.path.join(HERE, "model.safetensors"), {"format": "pt"})
    with open(os.path.join(HERE, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    checked = ["bert.embeddings.word_embeddings.weight", "bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.1.output.LayerNorm.bias", "classifier.weight"]
    golden = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "labels": labels, "logits": logits.detach(), "loss": loss.detach().reshape(1)}
    golden.update({"grad." + k: w[k].grad for k in checked})
    save_file(golden, os.path.join(HERE, "golden.safetensors"), {"torch": torch.__version__})
    print("loss", loss.item())


if __name__ == "__main__":
    main()
