"""Phase 4's Python side, run with the GPU machine's own Python (torch, transformers, peft, safetensors).

    python3 hf_golden.py write DIR   transformers itself builds tiny random GPT2LMHeadModel, BertForMaskedLM and
                                     LlamaForCausalLM, saves each with save_pretrained (safetensors) under DIR/<family>/,
                                     and writes DIR/<family>/golden.safetensors: input ids (and BERT's mask, token
                                     types, labels), logits, loss and the gradients of a few parameters
                                     ("grad.<name>"), as tests/golden/*.py do. One JSON line.
    python3 hf_golden.py peft DIR    for each DIR/<family>-<tuner> adapter that our exportPeftAdapter wrote:
                                     PeftModel.from_pretrained(<family> base from DIR/<family>-base), merge_and_unload(),
                                     and every weight compared with DIR/<family>-merged (our mergeInto). One JSON line.

The goldens are computed on the CPU in float32 (eager attention): the reference is transformers' code, not a device.
"""
import json
import os
import sys

import torch

FAMILIES = {
    # family: (transformers class, config, parameters whose gradients are compared)
    "gpt2": (
        "GPT2LMHeadModel",
        dict(model_type="gpt2", vocab_size=60, n_positions=32, n_embd=32, n_layer=2, n_head=4, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, initializer_range=0.2),
        ["transformer.wte.weight", "transformer.h.0.attn.c_attn.weight", "transformer.h.1.mlp.c_proj.bias", "transformer.ln_f.weight"],
    ),
    "bert": (
        "BertForMaskedLM",
        dict(model_type="bert", vocab_size=60, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48, max_position_embeddings=32, type_vocab_size=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, initializer_range=0.2),
        ["bert.embeddings.word_embeddings.weight", "bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.1.output.LayerNorm.bias", "cls.predictions.transform.dense.weight"],
    ),
    "llama": (
        "LlamaForCausalLM",
        dict(model_type="llama", vocab_size=60, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=False, initializer_range=0.2),
        ["model.embed_tokens.weight", "model.layers.0.self_attn.k_proj.weight", "model.layers.1.mlp.gate_proj.weight", "lm_head.weight"],
    ),
}


def write(out):
    import transformers
    from safetensors.torch import save_file

    done = {}
    for i, (family, (cls_name, cfg, checked)) in enumerate(FAMILIES.items()):
        torch.manual_seed(100 + i)
        config = transformers.AutoConfig.for_model(**cfg)
        config._attn_implementation = "eager"
        model = getattr(transformers, cls_name)(config).eval()
        d = os.path.join(out, family)
        model.save_pretrained(d, safe_serialization=True)
        g = torch.Generator().manual_seed(7 + i)
        ids = torch.randint(1, cfg["vocab_size"], (2, 9), generator=g)
        golden = {"input_ids": ids}
        kwargs = {}
        if family == "bert":
            mask = torch.ones_like(ids)
            mask[1, 6:] = 0
            types = torch.zeros_like(ids)
            types[0, 5:] = 1
            labels = torch.full_like(ids, -100)  # predict a few positions, ignore the rest
            labels[0, 2], labels[1, 4] = 5, 7
            kwargs = {"attention_mask": mask, "token_type_ids": types, "labels": labels}
            golden.update(attention_mask=mask, token_type_ids=types, labels=labels)
        else:
            kwargs = {"labels": ids}
        out_ = model(input_ids=ids, **kwargs)
        out_.loss.backward()
        params = dict(model.named_parameters())
        golden.update(logits=out_.logits.detach().contiguous(), loss=out_.loss.detach().reshape(1))
        for name in checked:
            golden["grad." + name] = params[name].grad.detach().contiguous()
        save_file(golden, os.path.join(d, "golden.safetensors"), {"transformers": transformers.__version__})
        done[family] = {"class": cls_name, "dir": d, "loss": out_.loss.item(), "grads": checked}
    print(json.dumps({"transformers": transformers.__version__, "families": done}))


def peft_merge(root):
    import peft
    import transformers
    from safetensors.torch import load_file

    classes = {"llama": "LlamaForCausalLM", "bert": "BertForSequenceClassification"}
    results = {}
    for name in sorted(os.listdir(root)):
        family, _, tuner = name.partition("-")
        if family not in classes or tuner in ("base", "merged"):
            continue
        try:
            base = getattr(transformers, classes[family]).from_pretrained(os.path.join(root, f"{family}-base")).eval()
            merged = peft.PeftModel.from_pretrained(base, os.path.join(root, name)).merge_and_unload()
            theirs = merged.state_dict()
            ours = load_file(os.path.join(root, f"{family}-merged", "model.safetensors"))
            worst, where, compared, absent = 0.0, None, 0, []
            for key, want in ours.items():
                got = theirs.get(key)
                if got is None:
                    absent.append(key)
                    continue
                diff = (got.float() - want.float()).abs().max().item() / max(want.float().abs().max().item(), 1e-30)
                compared += 1
                if diff > worst:
                    worst, where = diff, key
            results[name] = {"compared": compared, "maxRelDiff": worst, "worst": where, "absentInPeft": absent[:5]}
        except Exception as e:  # one adapter's failure is its own result, not the end of the check
            results[name] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
    print(json.dumps({"peft": peft.__version__, "adapters": results}))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "peft"):
        print("usage: hf_golden.py write|peft DIR", file=sys.stderr)
        sys.exit(2)
    (write if sys.argv[1] == "write" else peft_merge)(sys.argv[2])
