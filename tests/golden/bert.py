"""Golden files for BERT and RoBERTa sequence classification: tiny random-weight checkpoints in Hugging Face's
layout and the logits, loss and gradients PyTorch computes for a padded batch.

No GPU machine (and so no `transformers`) was lent to the issue that added this: the model is a plain functional
re-implementation of Hugging Face's BertForSequenceClassification and RobertaForSequenceClassification (eval mode),
in PyTorch on the CPU.
Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/bert.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from safetensors_io import save_file

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


def build(cfg, g, prefix, roberta, mlm=False):
    c, ff = cfg["hidden_size"], cfg["intermediate_size"]
    w = {}

    def lin(name, o, i):
        w[name + ".weight"] = torch.randn(o, i, generator=g) / math.sqrt(i)
        w[name + ".bias"] = 0.1 * torch.randn(o, generator=g)

    def ln(name):
        w[name + ".weight"] = 1 + 0.1 * torch.randn(c, generator=g)
        w[name + ".bias"] = 0.1 * torch.randn(c, generator=g)

    w[prefix + "embeddings.word_embeddings.weight"] = torch.randn(cfg["vocab_size"], c, generator=g) * 0.5
    w[prefix + "embeddings.position_embeddings.weight"] = torch.randn(cfg["max_position_embeddings"], c, generator=g) * 0.5
    w[prefix + "embeddings.token_type_embeddings.weight"] = torch.randn(cfg["type_vocab_size"], c, generator=g) * 0.5
    ln(prefix + "embeddings.LayerNorm")
    for i in range(cfg["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{i}."
        for n in ("query", "key", "value"):
            lin(p + "attention.self." + n, c, c)
        lin(p + "attention.output.dense", c, c)
        ln(p + "attention.output.LayerNorm")
        lin(p + "intermediate.dense", ff, c)
        lin(p + "output.dense", c, ff)
        ln(p + "output.LayerNorm")
    if mlm:  # the decoder weight is tied to the word embeddings
        head = "lm_head." if roberta else "cls.predictions.transform."
        lin(head + "dense", c, c)
        ln(head + ("layer_norm" if roberta else "LayerNorm"))
        w[("lm_head." if roberta else "cls.predictions.") + "bias"] = 0.1 * torch.randn(cfg["vocab_size"], generator=g)
    elif roberta:
        lin("classifier.dense", c, c)
        lin("classifier.out_proj", cfg["num_labels"], c)
    else:
        lin(prefix + "pooler.dense", c, c)
        lin("classifier", cfg["num_labels"], c)
    return w


def encode(w, cfg, prefix, ids, mask, types, roberta):
    """The encoder's final hidden states [B, T, C]."""
    c, h = cfg["hidden_size"], cfg["num_attention_heads"]
    d = c // h
    eps = cfg["layer_norm_eps"]
    b, t = ids.shape
    if roberta:  # positions count real tokens, after the padding index
        pad = cfg["pad_token_id"]
        real = (ids != pad).int()
        pos = torch.cumsum(real, dim=1) * real + pad
    else:
        pos = torch.arange(t)
    x = w[prefix + "embeddings.word_embeddings.weight"][ids] + w[prefix + "embeddings.position_embeddings.weight"][pos] + w[prefix + "embeddings.token_type_embeddings.weight"][types]
    x = F.layer_norm(x, (c,), w[prefix + "embeddings.LayerNorm.weight"], w[prefix + "embeddings.LayerNorm.bias"], eps)
    ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    L = lambda name, z: z @ w[name + ".weight"].T + w[name + ".bias"]
    for i in range(cfg["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{i}."
        q, k, v = (L(p + "attention.self." + n, x).view(b, t, h, d).transpose(1, 2) for n in ("query", "key", "value"))
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(d) + ext).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        a = F.layer_norm(L(p + "attention.output.dense", y) + x, (c,), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        m = F.gelu(L(p + "intermediate.dense", a))
        x = F.layer_norm(L(p + "output.dense", m) + a, (c,), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    return x


def forward(w, cfg, prefix, ids, mask, types, roberta, mlm=False):
    c, eps = cfg["hidden_size"], cfg["layer_norm_eps"]
    L = lambda name, z: z @ w[name + ".weight"].T + w[name + ".bias"]
    x = encode(w, cfg, prefix, ids, mask, types, roberta)
    if mlm:
        head = "lm_head." if roberta else "cls.predictions.transform."
        norm = head + ("layer_norm" if roberta else "LayerNorm")
        z = F.layer_norm(F.gelu(L(head + "dense", x)), (c,), w[norm + ".weight"], w[norm + ".bias"], eps)
        return z @ w[prefix + "embeddings.word_embeddings.weight"].T + w[("lm_head." if roberta else "cls.predictions.") + "bias"]
    if roberta:
        return L("classifier.out_proj", torch.tanh(L("classifier.dense", x[:, 0])))
    return L("classifier", torch.tanh(L(prefix + "pooler.dense", x[:, 0])))


def write(name, cfg, roberta, seed, checked, mlm=False):
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    prefix = "roberta." if roberta else "bert."
    w = build(cfg, g, prefix, roberta, mlm)
    pad = cfg["pad_token_id"]
    ids = torch.randint(pad + 1, cfg["vocab_size"], (3, 9), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    ids[mask == 0] = pad
    types = torch.zeros_like(ids)
    if cfg["type_vocab_size"] > 1:
        types[0, 5:] = 1
    if mlm:  # predict a few positions, ignore the rest
        labels = torch.full_like(ids, -100)
        labels[0, 2], labels[1, 4], labels[2, 1] = 5, 7, 9
    else:
        labels = torch.tensor([1, 2, 0])
    for t in w.values():
        t.requires_grad_(True)
    logits = forward(w, cfg, prefix, ids, mask, types, roberta, mlm)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
    loss.backward()
    save_file({k: t.detach() for k, t in w.items()}, os.path.join(out, "model.safetensors"), {"format": "pt"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    golden = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "labels": labels, "logits": logits.detach(), "loss": loss.detach().reshape(1)}
    golden.update({"grad." + k: w[k].grad for k in checked})
    save_file(golden, os.path.join(out, "golden.safetensors"), {"torch": torch.__version__})
    print(name, "loss", loss.item())


def main():
    write("bert-tiny-cls", CONFIG, False, 7, ["bert.embeddings.word_embeddings.weight", "bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.1.output.LayerNorm.bias", "classifier.weight"])
    roberta = dict(CONFIG, model_type="roberta", architectures=["RobertaForSequenceClassification"], type_vocab_size=1, pad_token_id=1, max_position_embeddings=16, layer_norm_eps=1e-5)
    write("roberta-tiny-cls", roberta, True, 8, ["roberta.embeddings.position_embeddings.weight", "roberta.encoder.layer.1.attention.self.value.weight", "classifier.out_proj.weight"])
    bert_mlm = dict(CONFIG, architectures=["BertForMaskedLM"])
    write("bert-tiny-mlm", bert_mlm, False, 9, ["bert.embeddings.word_embeddings.weight", "cls.predictions.bias", "cls.predictions.transform.dense.weight"], mlm=True)
    roberta_mlm = dict(roberta, architectures=["RobertaForMaskedLM"])
    write("roberta-tiny-mlm", roberta_mlm, True, 10, ["roberta.embeddings.word_embeddings.weight", "lm_head.bias", "lm_head.layer_norm.weight"], mlm=True)


if __name__ == "__main__":
    main()
