"""PEFT golden check, both ways, in PyTorch (Debian's torch 1.13; no `peft` package on these machines).

PEFT's loading and merging of its sparse tuners and of LoRA are re-implemented here from its source
(huggingface/peft: src/peft/tuners/supertuning/{config,layer,model}.py, src/peft/tuners/shira/{config,layer,
mask_functions,model}.py, src/peft/tuners/lora/layer.py, src/peft/utils/save_and_load.py and other.py):
  * adapter_config.json's fields; target_modules matched as PEFT matches a list (exact, or a '.'-suffix) over the
    torch.nn.Linear modules of the architecture (Super-Tuning and SHiRA refuse anything else; LoRA also takes
    GPT-2's Conv1D with fan_in_fan_out);
  * each layer's parameter sized as PEFT sizes it — Super-Tuning int(numel * (1 - sparsity)), SHiRA r * (in + out)
    (and r * (in + out) <= in * out) — since load_state_dict refuses any other size;
  * keys `base_model.model.<module>.<name>` with the adapter name removed, modules_to_save saved whole;
  * get_delta_weight / merge: Super-Tuning weight.reshape(-1).scatter_add_(0, indices.long(), values) (+ Supra's
    alpha/r * B @ A), SHiRA weight += sparse_coo_tensor(indices, values * scaling, (out, in)), LoRA
    transpose(B @ A, fan_in_fan_out) * scaling with scaling = alpha / r (alpha / sqrt(r) with use_rslora) and
    rank_pattern / alpha_pattern matched by re.match(rf"(.*\\.)?({key})$", module).

1. Our export: tests/golden/peft/{llama,bert}-{supertuning,shira} were written by `exportPeftAdapter` from SIFT
   deltas (tests/golden/peft-fixture.mts). Each is loaded and merged into its base here and compared with the
   weights our `mergeInto` wrote ({llama,bert}-merged): report.json records every check and the largest
   difference.
2. Our import: adapters written here in PEFT's layout (from-peft/*: Super-Tuning, Supra, SHiRA with its random
   mask, LoRA with rank/alpha patterns, GPT-2 LoRA with fan_in_fan_out and rsLoRA, BERT SHiRA with a
   modules_to_save head) with the weights PEFT's merge gives (merged.safetensors); the TypeScript test applies
   each with applyPeftAdapter and compares.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/peft.py
"""
import json
import math
import os
import re
import struct

import torch

from safetensors_io import save_file

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peft")
PREFIX = "base_model.model."
_DT = {"F32": torch.float32, "I32": torch.int32, "I64": torch.int64, "F64": torch.float64}


def load_file(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[a:b]), dtype=_DT[info["dtype"]]) if b > a else torch.zeros(0, dtype=_DT[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


def linear_modules(arch, weights):
    """The torch.nn.Linear modules of a transformers model of this architecture (module path -> weight key)."""
    names = [k[: -len(".weight")] for k, v in weights.items() if k.endswith(".weight") and v.dim() == 2]
    if arch == "llama":
        pat = r"(.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)|lm_head)$"
    elif arch == "bert":
        pat = r"(.*\.(query|key|value|dense)|classifier)$"
    elif arch == "gpt2":
        pat = r"lm_head$"  # c_attn, c_proj, c_fc are transformers' Conv1D, not nn.Linear
    return {n for n in names if re.match(pat, n)}


def conv1d_modules(arch, weights):
    if arch != "gpt2":
        return set()
    return {k[: -len(".weight")] for k, v in weights.items() if re.match(r".*\.(c_attn|c_proj|c_fc)\.weight$", k)}


def targeted(config, modules):
    t = config["target_modules"]
    if isinstance(t, str):
        return {m for m in modules if re.fullmatch(t, m)}
    return {m for m in modules if m in t or any(m.endswith("." + x) for x in t)}


def pattern_key(patterns, module):
    for key in patterns:
        if re.match(rf"(.*\.)?({key})$", module):
            return key
    return None


def peft_merge(arch, base, adapter_dir):
    """Loads an adapter directory as PEFT would on `base` and returns the merged weights (merge_and_unload)."""
    config = json.load(open(os.path.join(adapter_dir, "adapter_config.json")))
    sd = load_file(os.path.join(adapter_dir, "adapter_model.safetensors"))
    assert all(k.startswith(PREFIX) for k in sd), "every key is under base_model.model."
    sd = {k[len(PREFIX):]: v for k, v in sd.items()}
    merged = {k: v.clone() for k, v in base.items()}
    kind = config["peft_type"]
    linear = linear_modules(arch, base)
    mods = targeted(config, linear | (conv1d_modules(arch, base) if kind == "LORA" else set()))
    if kind != "LORA":
        others = targeted(config, conv1d_modules(arch, base))
        assert not others, f"{kind} targets non-Linear modules {others}: PEFT raises TypeError"
    assert mods, "no module targeted"
    used = set()
    layers = {}
    for m in sorted(mods):
        w = merged[m + ".weight"]
        out_f, in_f = w.shape
        if kind == "SUPERTUNING":
            n = int(w.numel() * (1 - config["sparsity"]))
            assert n >= 1
            values, idx = sd[m + ".supertuning_values"], sd[m + ".supertuning_indices"]
            assert values.shape == (n,) and idx.shape == (n,), f"{m}: values {tuple(values.shape)} vs PEFT's size {n}"
            assert idx.dtype == torch.int32 and values.dtype == torch.float32
            used |= {m + ".supertuning_values", m + ".supertuning_indices"}
            delta = torch.zeros_like(w).reshape(-1).scatter_add(0, idx.to(torch.int64), values.to(w.dtype)).reshape_as(w)
            if config.get("r"):
                r, alpha = config["r"], config["lora_alpha"]
                a, b = sd[m + ".supertuning_lora_A.weight"], sd[m + ".supertuning_lora_B.weight"]
                assert a.shape == (r, in_f) and b.shape == (out_f, r)
                used |= {m + ".supertuning_lora_A.weight", m + ".supertuning_lora_B.weight"}
                delta = delta + ((alpha / r) * (b @ a)).to(w.dtype)
            w += delta
            layers[m] = n
        elif kind == "SHIRA":
            r = config["r"]
            n = r * (in_f + out_f)
            assert n <= in_f * out_f, f"{m}: r(in + out) exceeds the layer"
            values, idx = sd[m + ".shira_weight"], sd[m + ".shira_indices"]
            assert values.shape == (n,) and idx.shape == (2, n), f"{m}: {tuple(values.shape)} / {tuple(idx.shape)} vs PEFT's {n}"
            assert idx.dtype == torch.int32
            used |= {m + ".shira_weight", m + ".shira_indices"}
            scaling = 1.0
            w += torch.sparse_coo_tensor(idx, values * scaling, (out_f, in_f))
            layers[m] = n
        else:  # LORA
            assert not config.get("use_dora") and config.get("bias", "none") == "none"
            fan_in_fan_out = config.get("fan_in_fan_out", False)
            if m in conv1d_modules(arch, base):
                in_f, out_f = w.shape
                assert fan_in_fan_out, "Conv1D needs fan_in_fan_out"
            rp, ap = config.get("rank_pattern") or {}, config.get("alpha_pattern") or {}
            k = pattern_key(rp, m)
            r = rp[k] if k else config["r"]
            k = pattern_key(ap, m)
            alpha = ap[k] if k else config["lora_alpha"]
            scaling = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
            a, b = sd[m + ".lora_A.weight"], sd[m + ".lora_B.weight"]
            assert a.shape == (r, in_f) and b.shape == (out_f, r), f"{m}: A {tuple(a.shape)} B {tuple(b.shape)}"
            used |= {m + ".lora_A.weight", m + ".lora_B.weight"}
            d = b @ a
            w += (d.T if fan_in_fan_out else d) * scaling
            layers[m] = r
    for m in config.get("modules_to_save") or []:
        keys = [k for k in base if k == m or k.startswith(m + ".") or ("." + m + ".") in k]
        assert keys, f"modules_to_save {m} matches nothing"
        for k in keys:
            assert sd[k].shape == base[k].shape
            merged[k] = sd[k].clone()
            used.add(k)
    assert used == set(sd), f"keys PEFT would not load: {sorted(set(sd) - used)}"
    return merged, layers, config


def check_our_exports():
    report = {}
    for arch in ("llama", "bert"):
        base = load_file(os.path.join(HERE, f"{arch}-base", "model.safetensors"))
        ours = load_file(os.path.join(HERE, f"{arch}-merged", "model.safetensors"))
        for tuner in ("supertuning", "shira"):
            merged, layers, config = peft_merge(arch, base, os.path.join(HERE, f"{arch}-{tuner}"))
            assert set(merged) == set(ours)
            diff = max((merged[k] - ours[k]).abs().max().item() for k in merged)
            changed = sum(int((merged[k] != base[k]).sum()) for k in merged)
            report[f"{arch}-{tuner}"] = {
                "peft_type": config["peft_type"],
                "sparsity" if tuner == "supertuning" else "r": config["sparsity" if tuner == "supertuning" else "r"],
                "layers": len(layers),
                "entries_per_layer": layers,
                "max_abs_diff": diff,
                "bitwise_equal": all(torch.equal(merged[k], ours[k]) for k in merged),
                "weights_changed": changed,
            }
            print(f"{arch}-{tuner}: {len(layers)} layers, max |PEFT merge - ours| = {diff}")
    json.dump(report, open(os.path.join(HERE, "report.json"), "w"), indent=1, sort_keys=True)
    open(os.path.join(HERE, "report.json"), "a").write("\n")


def write_adapter(name, config, tensors, arch, base):
    d = os.path.join(HERE, "from-peft", name)
    os.makedirs(d, exist_ok=True)
    full = {"auto_mapping": None, "base_model_name_or_path": f"{arch}-base", "inference_mode": True, "revision": None, "peft_version": "0.20.1.dev0", "task_type": None, "modules_to_save": None, **config}
    json.dump(full, open(os.path.join(d, "adapter_config.json"), "w"), indent=2, sort_keys=True)
    save_file({PREFIX + k: v for k, v in tensors.items()}, os.path.join(d, "adapter_model.safetensors"), {"format": "pt"})
    merged, _, _ = peft_merge(arch, base, d)
    changed = {k: v for k, v in merged.items() if not torch.equal(v, base[k])}
    save_file(changed, os.path.join(d, "merged.safetensors"))
    print(f"from-peft/{name}: {len(tensors)} tensors, {len(changed)} merged weights changed")


def random_mask(out_f, in_f, r, seed):
    """mask_functions.random_mask: r(in + out) positions from a seeded randperm, as a 0/1 [out, in] mask."""
    g = torch.Generator()
    g.manual_seed(seed)
    idx = torch.randperm(out_f * in_f, generator=g)[: r * (in_f + out_f)]
    mask = torch.zeros(out_f * in_f)
    mask[idx] = 1
    return mask.view(out_f, in_f)


def write_peft_adapters():
    g = torch.Generator().manual_seed(2024)
    llama = load_file(os.path.join(HERE, "llama-base", "model.safetensors"))
    bert = load_file(os.path.join(HERE, "bert-base", "model.safetensors"))
    gpt2 = load_file(os.path.join(HERE, "gpt2-base", "model.safetensors"))
    proj = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    llama_mods = sorted(m for m in linear_modules("llama", llama) if m != "lm_head")

    # Super-Tuning as update_layer builds it: the top int(numel * (1 - s)) |W| positions, int32; trained values.
    s = 0.9
    t = {}
    for m in llama_mods:
        w = llama[m + ".weight"]
        n = int(w.numel() * (1 - s))
        _, idx = torch.topk(w.abs().flatten(), k=n, largest=True)
        t[m + ".supertuning_indices"] = idx.to(torch.int32)
        t[m + ".supertuning_values"] = torch.randn(n, generator=g) * 0.05
    write_adapter("llama-supertuning", {"peft_type": "SUPERTUNING", "target_modules": proj, "sparsity": s, "select_top": True, "r": None, "lora_alpha": None, "lora_dropout": 0.0, "init_weights": True, "save_precomputed_indices": True}, t, "llama", llama)

    # Supra: Super-Tuning with a LoRA part (r, lora_alpha), on the attention projections only.
    s, r, alpha = 0.95, 2, 6
    t = {}
    attn = [m for m in llama_mods if ".self_attn." in m]
    for m in attn:
        w = llama[m + ".weight"]
        n = int(w.numel() * (1 - s))
        _, idx = torch.topk(w.abs().flatten(), k=n, largest=False)
        t[m + ".supertuning_indices"] = idx.to(torch.int32)
        t[m + ".supertuning_values"] = torch.randn(n, generator=g) * 0.05
        t[m + ".supertuning_lora_A.weight"] = torch.randn(r, w.shape[1], generator=g) * 0.1
        t[m + ".supertuning_lora_B.weight"] = torch.randn(w.shape[0], r, generator=g) * 0.1
    write_adapter("llama-supra", {"peft_type": "SUPERTUNING", "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"], "sparsity": s, "select_top": False, "r": r, "lora_alpha": alpha, "lora_dropout": 0.0, "init_weights": True, "save_precomputed_indices": True}, t, "llama", llama)

    # SHiRA with PEFT's seeded random mask; indices as torch.where gives them (row-major), int32.
    r = 2
    t = {}
    for i, m in enumerate(llama_mods):
        w = llama[m + ".weight"]
        rows, cols = torch.where(random_mask(w.shape[0], w.shape[1], r, 100 + i) == 1.0)
        t[m + ".shira_indices"] = torch.stack([rows, cols]).to(torch.int)
        t[m + ".shira_weight"] = torch.randn(rows.numel(), generator=g) * 0.05
    write_adapter("llama-shira", {"peft_type": "SHIRA", "target_modules": proj, "r": r, "mask_type": "random", "random_seed": 100, "fan_in_fan_out": False, "init_weights": True}, t, "llama", llama)

    # LoRA with rank and alpha patterns.
    cfg = {"peft_type": "LORA", "target_modules": proj, "r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "bias": "none", "fan_in_fan_out": False, "use_rslora": False, "use_dora": False, "rank_pattern": {"q_proj": 2}, "alpha_pattern": {"o_proj": 3}, "init_lora_weights": True, "layers_to_transform": None, "layers_pattern": None}
    t = {}
    for m in llama_mods:
        w = llama[m + ".weight"]
        rk = 2 if m.endswith("q_proj") else 4
        t[m + ".lora_A.weight"] = torch.randn(rk, w.shape[1], generator=g) * 0.1
        t[m + ".lora_B.weight"] = torch.randn(w.shape[0], rk, generator=g) * 0.1
    write_adapter("llama-lora", cfg, t, "llama", llama)

    # GPT-2 LoRA: Conv1D layers ([in, out] weights) with fan_in_fan_out, rsLoRA scaling.
    cfg = {"peft_type": "LORA", "target_modules": ["c_attn", "c_fc"], "r": 3, "lora_alpha": 5, "lora_dropout": 0.0, "bias": "none", "fan_in_fan_out": True, "use_rslora": True, "use_dora": False, "rank_pattern": {}, "alpha_pattern": {}, "init_lora_weights": True}
    t = {}
    for m in sorted(conv1d_modules("gpt2", gpt2)):
        if not re.search(r"\.(c_attn|c_fc)$", m):
            continue
        w = gpt2[m + ".weight"]  # [in, out]
        t[m + ".lora_A.weight"] = torch.randn(3, w.shape[0], generator=g) * 0.1
        t[m + ".lora_B.weight"] = torch.randn(w.shape[1], 3, generator=g) * 0.1
    write_adapter("gpt2-lora", cfg, t, "gpt2", gpt2)

    # BERT SHiRA on the attention, with a new 3-class head in modules_to_save.
    r = 1
    t = {}
    bert_attn = sorted(m for m in linear_modules("bert", bert) if re.search(r"attention\.self\.(query|value)$", m))
    for i, m in enumerate(bert_attn):
        w = bert[m + ".weight"]
        rows, cols = torch.where(random_mask(w.shape[0], w.shape[1], r, 200 + i) == 1.0)
        t[m + ".shira_indices"] = torch.stack([rows, cols]).to(torch.int)
        t[m + ".shira_weight"] = torch.randn(rows.numel(), generator=g) * 0.05
    t["classifier.weight"] = torch.randn(3, 32, generator=g) * 0.1
    t["classifier.bias"] = torch.randn(3, generator=g) * 0.1
    write_adapter("bert-shira", {"peft_type": "SHIRA", "task_type": "SEQ_CLS", "target_modules": ["query", "value"], "r": r, "mask_type": "random", "random_seed": 200, "fan_in_fan_out": False, "init_weights": True, "modules_to_save": ["classifier"]}, t, "bert", bert)


def main():
    check_our_exports()
    write_peft_adapters()


if __name__ == "__main__":
    main()
