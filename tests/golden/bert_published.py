"""Golden files for BERT and RoBERTa as their base checkpoints are published (bert-base-uncased, roberta-base): the
pre-training checkpoint, with the pooler and every pre-training head, in the names those files use.

- bert-published: BertForPreTraining's tensors with the original TensorFlow-era names (`LayerNorm.gamma` and
  `LayerNorm.beta` for every LayerNorm), `bert.pooler.dense.*`, the masked-LM head `cls.predictions.*` (its decoder
  weight stored, equal to the word embeddings it is tied to) and the next-sentence head `cls.seq_relationship.*`.
- roberta-published: `roberta.*` with the pooler and the `embeddings.position_ids` buffer, and the LM head
  `lm_head.*` (its decoder weight and bias stored).

The golden outputs are the masked-LM logits, loss and gradients (gradients named as the model names its
parameters), the encoder's last hidden states and the pooled [CLS] output. The encoder is bert.py's functional
re-implementation.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/bert_published.py
"""
import json
import os

import torch
import torch.nn.functional as F

from bert import build, encode
from safetensors_io import save_file

GOLDEN = os.path.dirname(os.path.abspath(__file__))
# bert-base-uncased's config.json, every field kept, sizes scaled down.
BERT = {
    "architectures": ["BertForMaskedLM"],
    "attention_probs_dropout_prob": 0.1,
    "gradient_checkpointing": False,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 64,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 16,
    "model_type": "bert",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "transformers_version": "4.6.0.dev0",
    "type_vocab_size": 2,
    "use_cache": True,
    "vocab_size": 30,
}
# roberta-base's config.json, likewise.
ROBERTA = {
    "architectures": ["RobertaForMaskedLM"],
    "attention_probs_dropout_prob": 0.1,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 64,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": 18,
    "model_type": "roberta",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "pad_token_id": 1,
    "type_vocab_size": 1,
    "vocab_size": 30,
}


def lin(name, z, w):
    return z @ w[name + ".weight"].T + w[name + ".bias"]


def published_names(w):
    """BERT's original checkpoint names: every LayerNorm's weight is `gamma` and its bias `beta`."""
    out = {}
    for k, t in w.items():
        if ".LayerNorm." in k:
            k = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        out[k] = t
    return out


def write(name, cfg, roberta, seed):
    out = os.path.join(GOLDEN, name)
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    prefix = "roberta." if roberta else "bert."
    c, v = cfg["hidden_size"], cfg["vocab_size"]
    w = build(cfg, g, prefix, roberta, mlm=True)
    w[prefix + "pooler.dense.weight"] = torch.randn(c, c, generator=g) / c**0.5
    w[prefix + "pooler.dense.bias"] = 0.1 * torch.randn(c, generator=g)
    pad = cfg["pad_token_id"]
    ids = torch.randint(pad + 1, v, (3, 9), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    ids[mask == 0] = pad
    types = torch.zeros_like(ids)
    if cfg["type_vocab_size"] > 1:
        types[0, 5:] = 1
    labels = torch.full_like(ids, -100)
    labels[0, 2], labels[1, 4], labels[2, 1] = 5, 7, 9
    for t in w.values():
        t.requires_grad_(True)

    eps = cfg["layer_norm_eps"]
    hidden = encode(w, cfg, prefix, ids, mask, types, roberta)
    pooled = torch.tanh(lin(prefix + "pooler.dense", hidden[:, 0], w))
    head = "lm_head." if roberta else "cls.predictions.transform."
    norm = head + ("layer_norm" if roberta else "LayerNorm")
    z = F.layer_norm(F.gelu(lin(head + "dense", hidden, w)), (c,), w[norm + ".weight"], w[norm + ".bias"], eps)
    bias = w["lm_head.bias" if roberta else "cls.predictions.bias"]
    logits = z @ w[prefix + "embeddings.word_embeddings.weight"].T + bias  # the decoder is tied to the embeddings
    loss = F.cross_entropy(logits.reshape(-1, v), labels.reshape(-1))
    loss.backward()

    stored = {k: t.detach() for k, t in w.items()}
    emb = stored[prefix + "embeddings.word_embeddings.weight"]
    if roberta:
        stored["lm_head.decoder.weight"] = emb.clone()
        stored["lm_head.decoder.bias"] = stored["lm_head.bias"].clone()
        # Position ids of the longest input; RoBERTa's are recomputed from the padding, so the buffer is unused.
        stored["roberta.embeddings.position_ids"] = torch.arange(cfg["max_position_embeddings"]).view(1, -1)
    else:
        stored["cls.predictions.decoder.weight"] = emb.clone()
        stored["cls.seq_relationship.weight"] = torch.randn(2, c, generator=g) / c**0.5
        stored["cls.seq_relationship.bias"] = 0.1 * torch.randn(2, generator=g)
        stored = published_names(stored)
    save_file(stored, os.path.join(out, "model.safetensors"), {"format": "pt"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    checked = [prefix + "embeddings.word_embeddings.weight", prefix + "embeddings.LayerNorm.weight", prefix + "encoder.layer.1.output.LayerNorm.bias"]
    checked += ["lm_head.bias", "lm_head.layer_norm.weight"] if roberta else ["cls.predictions.bias", "cls.predictions.transform.LayerNorm.weight"]
    golden = {
        "input_ids": ids,
        "attention_mask": mask,
        "token_type_ids": types,
        "labels": labels,
        "logits": logits.detach(),
        "loss": loss.detach().reshape(1),
        "hidden": hidden.detach(),
        "pooled": pooled.detach(),
    }
    golden.update({"grad." + k: w[k].grad for k in checked})
    save_file(golden, os.path.join(out, "golden.safetensors"), {"torch": torch.__version__})
    print(name, "loss", loss.item())


def main():
    write("bert-published", BERT, False, 31)
    write("roberta-published", ROBERTA, True, 32)


if __name__ == "__main__":
    main()
