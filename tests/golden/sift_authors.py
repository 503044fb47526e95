"""Golden runs of SIFT on a tiny GPT-2 classifier, as the paper and its authors' code run it and as siftjs says it
runs it: the files tests/sift/authors-golden.test.ts compares our SIFT with.

Written from the paper (Song et al., ICML 2024, "Sparse is Enough in Fine-tuning Pre-trained Large Language Models",
Figure 5) and the authors' published method (github.com/song-wx/SIFT, sift/sift.py and
exp/glue_benchmark/run_glue.py), read, not copied. SIFT in one paragraph: every parameter a target names is trained
sparsely — k of its n components, the top-k |G| of the first gradient — through a k-sized parameter that AdamW steps
and that is added into the weight; a hook on each such weight sees its dense gradient G and keeps only G[idx]. The
`dense` parameters train with plain AdamW, everything else is frozen.

Where siftjs deliberately differs from the authors' code, a switch below has both behaviours ("ours", "authors"):

  k_rule       k = ⌈x·n⌉ (ours)                | k = min(int(x·n) + 1, n) (authors); the two differ only where x·n is
                                                 a whole number, by one component
  first_batch  the first gradient selects and trains (ours) | it selects and is discarded (authors): the sparse
                                                 parameters get no gradient at step 1 and AdamW skips them then
  write_back   the step's increment is in the weight before the next forward (ours) | it is added during the next
                                                 backward (authors: in the hook), so the forward of step t sees the
                                                 updates of steps ≤ t−2 and the last step's update never lands
  hook         a hook handles its own weight's gradient (ours) | it handles the gradients already accumulated in
                                                 other weights' .grad (authors), so each gradient is handled one hook
                                                 late, and the weight whose gradient arrives last in backward is
                                                 handled by no hook of that backward; zero_grad then drops it, so that
                                                 weight is never selected nor trained. Here it is layer 0's
                                                 c_attn.weight (`x @ W + b` gives the bias its gradient first); in
                                                 Hugging Face's Conv1D (one addmm) weight and bias get theirs from one
                                                 node, and the autograd engine's queue decides which is last
  increment    the weight is w₀ + δ with δ stepped by AdamW and accumulated (ours) | the stepped parameter u is
                                                 added into the weight (w ← w + u) and zeroed (authors); the same
                                                 update in exact arithmetic, rounded differently in floating point
  no_decay     decay groups by rank: dense tensors with ≥ 2 dimensions decay, 1-D (biases, norm weights) do not
                 (ours, as Hugging Face's Trainer finds norm layers by type) | by name: no decay where the name
                 contains "bias" or "LayerNorm.weight" (authors), so GPT-2's transformer.ln_f.weight decays

How this script reads the authors' code where it leaves a choice (each a documented reading, not a guess at intent):
- zero_grad sets gradients to None (PyTorch ≥ 2's default, which Hugging Face's Trainer calls as model.zero_grad()
  before the first step and after every step). Under PyTorch 1.x's zero-filling the sparse parameters would take an
  AdamW step on a zero gradient at step 1 (shifting their bias correction by one step) and the last weight of the
  hook order would be "selected" from a zero gradient and trained on zeros: still never moved.
- The sparse parameter of a weight is named NAME + "_sparse" in the authors' optimizer, so the name rule puts
  biases' increments in the no-decay group and weights' increments in the decayed one. Both are zero whenever AdamW
  steps them (added into the weight and zeroed before each step), so decay never acts on them; the script asserts
  that. With increment = "ours" the stepped δ is not zero, and it is in a group without decay, as siftjs's default.
- Their hook ends after a selection (a `return` inside the loop over pending gradients). At most one gradient is
  pending in any hook when gradients are set to None between steps, so this skips nothing; the script asserts it.
- Not modelled (no switch; the runs use neither): gradient clipping (the authors' Trainer clips with stale dense
  gradients, siftjs's fix 6), gradient accumulation, LR schedules, bf16 state (fix 7).

Targets: attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj (weights and biases: 16 tensors). The authors match a target
as a substring of the parameter name, siftjs as whole dotted components; for these targets the two rules pick the
same 16 tensors, which the script asserts. Dense: score and ln_f. Density 1/64: x·n is whole for every weight and
for mlp.c_fc.bias (n = 128), fractional for the other biases, so the k rule shows both cases.

The checkpoint is tests/golden/gpt2-tiny-cls (written by gpt2.py); the K batches are drawn here from a fixed seed.
The run is repeated for float32 and float64, for: ours (every switch ours), authors (every switch theirs), and each
switch flipped alone. Every selection is made from the first batch's gradient at the checkpoint's weights, the same
in every run; the script checks that the top-k order has a clear margin at every k it uses, so a float32 run
elsewhere picks the same components.

Written: tests/golden/sift-authors/golden-float32.safetensors and golden-float64.safetensors, each with
  batch/T/input_ids, batch/T/labels       the K batches (int64)
  RUN/losses                              the loss of each step's forward (float64)
  RUN/sparse/NAME/indices                 int32 [k]: the chosen flat indices, |G| descending
  RUN/sparse/NAME/values                  the weight's final values there (every other component is the checkpoint's,
                                          asserted here)
  RUN/sparse/NAME/pending                 late write-back only: the stepped sparse parameter whose update never landed
  RUN/dense/NAME                          the final dense tensors
and the metadata: the hyper-parameters, each run's switches, the weights each run never trained, the margins.

Regenerate (Debian's python3-torch, CPU, a few seconds):  /usr/bin/python3 tests/golden/sift_authors.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from gpt2 import gpt2_logits
from safetensors_io import save_file
from safetensors_read import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKPOINT = os.path.join(HERE, "gpt2-tiny-cls")
OUT = os.path.join(HERE, "sift-authors")

K = 8
BATCH, SEQ = 3, 10
SEED = 15
DENSITY = 1 / 64
TARGETS = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"]
DENSE = ["score", "ln_f"]
LR, WEIGHT_DECAY, BETAS, EPS = 1e-3, 0.1, (0.9, 0.999), 1e-8
# A top-k boundary closer than this (relative gap of |G| between the k-th and the next component) could be
# reordered by float32 rounding elsewhere; the script refuses to write golden files over one.
MIN_MARGIN = 1e-4

SWITCHES = {
    "k_rule": ("ceil", "int_plus_one"),
    "first_batch": ("trains", "discarded"),
    "write_back": ("immediate", "late"),
    "hook": ("own", "lagged"),
    "increment": ("delta", "accumulate"),
    "no_decay": ("rank", "names"),
}
OURS = {s: v[0] for s, v in SWITCHES.items()}
AUTHORS = {s: v[1] for s, v in SWITCHES.items()}
RUNS = {"ours": OURS, "authors": AUTHORS, **{s: dict(OURS, **{s: v[1]}) for s, v in SWITCHES.items()}}


def matches_as_substring(name, patterns):
    """The authors' rule: a pattern anywhere in the name."""
    return any(p in name for p in patterns)


def matches_as_components(name, patterns):
    """siftjs's rule: the whole name, or a run of whole dotted components of it."""
    return any(name == p or name.startswith(p + ".") or f".{p}." in name or name.endswith("." + p) for p in patterns)


def k_for(n, rule):
    return max(1, math.ceil(DENSITY * n)) if rule == "ceil" else min(int(DENSITY * n) + 1, n)


class SparseWeight:
    """One weight trained sparsely: its indices, the pre-trained values there, and the k-sized parameter AdamW steps
    (δ accumulated, or the step's increment u, by the `increment` switch)."""

    def __init__(self, name, weight, k, sw):
        self.name, self.weight, self.k, self.sw = name, weight, k, sw
        self.idx = None
        self.base = None
        self.param = torch.nn.Parameter(torch.zeros(k, dtype=weight.dtype))
        self.landed = None  # late write-back: the δ (or u) last added into the weight

    def flat(self):
        return self.weight.detach().view(-1)

    def on_gradient(self, g):
        """A dense gradient of this weight, handled: chosen from, then (unless discarded) gathered. Returns
        whether this was the selection."""
        g = g.reshape(-1)
        if self.idx is None:
            self.idx = torch.topk(g.abs(), self.k).indices
            self.base = self.flat()[self.idx].clone()
            if self.sw["first_batch"] == "discarded":
                return True
            selected = True
        else:
            if self.sw["write_back"] == "late":
                self.land()
            selected = False
        gathered = g[self.idx].detach().clone()
        self.param.grad = gathered if self.param.grad is None else self.param.grad + gathered
        return selected

    def land(self):
        """The stepped increment into the weight (w = w₀ + δ, or w ← w + u and u ← 0)."""
        with torch.no_grad():
            flat = self.flat()
            if self.sw["increment"] == "delta":
                flat[self.idx] = self.base + self.param
            else:
                flat[self.idx] = flat[self.idx] + self.param
                self.param.zero_()


def load_weights(dtype):
    w, _ = load_file(os.path.join(CHECKPOINT, "model.safetensors"))
    with open(os.path.join(CHECKPOINT, "config.json")) as f:
        cfg = json.load(f)
    return {k: v.to(dtype) for k, v in w.items()}, cfg


def classify_loss(w, cfg, ids, labels):
    """GPT2ForSequenceClassification's loss: the score head read at each row's last non-pad token."""
    logits = gpt2_logits(w, cfg, ids, head=w["score.weight"])
    last = (torch.arange(ids.shape[1]) * (ids != cfg["pad_token_id"]).int()).argmax(-1)
    return F.cross_entropy(logits[torch.arange(ids.shape[0]), last], labels)


def make_batches(cfg):
    g = torch.Generator().manual_seed(SEED)
    batches = []
    for _ in range(K):
        ids = torch.randint(1, cfg["vocab_size"], (BATCH, SEQ), generator=g)
        lengths = torch.randint(3, SEQ + 1, (BATCH,), generator=g)
        for r in range(BATCH):
            ids[r, lengths[r] :] = cfg["pad_token_id"]  # right padding
        batches.append((ids, torch.randint(0, cfg["num_labels"], (BATCH,), generator=g)))
    return batches


def sparse_names(w):
    names = [n for n in w if matches_as_components(n, TARGETS)]
    assert names == [n for n in w if matches_as_substring(n, TARGETS)], "the two matching rules disagree on the targets"
    return names


def dense_names(w):
    names = [n for n in w if matches_as_components(n, DENSE)]
    assert names == [n for n in w if matches_as_substring(n, DENSE)], "the two matching rules disagree on the dense names"
    return names


def decays(name, dense_tensor, sw):
    if sw["no_decay"] == "rank":
        return dense_tensor.dim() >= 2
    return not any(nd in name for nd in ("bias", "LayerNorm.weight"))


def train(dtype, sw):
    w, cfg = load_weights(dtype)
    w0 = {k: v.clone() for k, v in w.items()}
    names, dense = sparse_names(w), dense_names(w)
    for n, t in w.items():
        t.requires_grad_(n in names or n in dense)
    sparse = [SparseWeight(n, w[n], k_for(w[n].numel(), sw["k_rule"]), sw) for n in names]

    arrivals = []  # the order gradients arrive in, per backward

    def own_hook(s):
        def hook(g):
            arrivals.append(s.name)
            with torch.no_grad():
                s.on_gradient(g)

        return hook

    def lagged_hook(s):
        # The authors' hook body ignores its argument and handles whatever other weights' .grad holds.
        def hook(_g):
            arrivals.append(s.name)
            pending = [q for q in sparse if q.weight.grad is not None]
            assert len(pending) <= 1, f"{len(pending)} gradients pending in one hook"
            with torch.no_grad():
                for q in pending:
                    g = q.weight.grad
                    q.weight.grad = None
                    if q.on_gradient(g):
                        return

        return hook

    for s in sparse:
        s.weight.register_hook((own_hook if sw["hook"] == "own" else lagged_hook)(s))

    groups = {True: [], False: []}
    for s in sparse:
        # δ: no decay (siftjs's sparse group). u: the authors' name rule on NAME_sparse — it is zero when stepped.
        groups[sw["increment"] == "accumulate" and decays(s.name + "_sparse", s.weight, dict(sw, no_decay="names"))].append(s.param)
    for n in dense:
        groups[decays(n, w[n], sw)].append(w[n])
    opt = torch.optim.AdamW(
        [{"params": groups[True], "weight_decay": WEIGHT_DECAY}, {"params": groups[False], "weight_decay": 0.0}],
        lr=LR,
        betas=BETAS,
        eps=EPS,
    )

    losses = []
    for ids, labels in make_batches(cfg):
        for t in [*w.values(), *(s.param for s in sparse)]:
            t.grad = None  # zero_grad(set_to_none=True)
        arrivals.clear()
        loss = classify_loss(w, cfg, ids, labels)
        losses.append(loss.item())
        loss.backward()
        stepped = [s for s in sparse if s.param.grad is not None]
        if sw["increment"] == "accumulate":
            assert all(bool((s.param == 0).all()) for s in stepped), "an increment is non-zero when AdamW steps it"
        opt.step()
        if sw["write_back"] == "immediate":
            for s in stepped:
                s.land()

    untrained = [s.name for s in sparse if s.idx is None]
    assert untrained == ([arrivals[-1]] if sw["hook"] == "lagged" else []), (untrained, arrivals)
    for n, t in w.items():
        if n not in names and n not in dense:
            assert torch.equal(t, w0[n]), f"frozen {n} moved"
    for s in sparse:
        if s.idx is None:
            assert torch.equal(s.weight.detach(), w0[s.name]), f"untrained {s.name} moved"
            continue
        rest = s.flat().clone()
        rest[s.idx] = w0[s.name].view(-1)[s.idx]
        assert torch.equal(rest, w0[s.name].view(-1)), f"{s.name} moved outside its indices"

    out = {"losses": torch.tensor(losses, dtype=torch.float64)}
    for s in sparse:
        if s.idx is None:
            continue
        out[f"sparse/{s.name}/indices"] = s.idx.to(torch.int32)
        out[f"sparse/{s.name}/values"] = s.flat()[s.idx].clone()
        if sw["write_back"] == "late":
            out[f"sparse/{s.name}/pending"] = s.param.detach().clone()
    for n in dense:
        out[f"dense/{n}"] = w[n].detach().clone()
    return out, {"untrained": untrained, "last_arrival": arrivals[-1]}


def selection_margins():
    """Per targeted weight, the relative gap of |G| (first batch, float64, the checkpoint's weights) at the top-k
    boundaries the runs use: after the ⌈x·n⌉-th and after the (int(x·n)+1)-th largest."""
    w, cfg = load_weights(torch.float64)
    names = sparse_names(w)
    for n in names:
        w[n].requires_grad_(True)
    ids, labels = make_batches(cfg)[0]
    classify_loss(w, cfg, ids, labels).backward()
    margins = {}
    for n in names:
        s = w[n].grad.abs().flatten().sort(descending=True).values
        for k in {k_for(s.numel(), "ceil"), k_for(s.numel(), "int_plus_one")}:
            if k < s.numel():
                gap = float((s[k - 1] - s[k]) / s[k - 1])
                margins[f"{n}@{k}"] = gap
                assert gap > MIN_MARGIN, f"{n}: the top-{k} boundary has a relative margin of only {gap:.2e}"
    return margins


def main():
    os.makedirs(OUT, exist_ok=True)
    margins = selection_margins()
    _, cfg = load_weights(torch.float32)
    batches = make_batches(cfg)
    for dtype in (torch.float32, torch.float64):
        tensors, runs = {}, {}
        for t, (ids, labels) in enumerate(batches):
            tensors[f"batch/{t}/input_ids"] = ids
            tensors[f"batch/{t}/labels"] = labels
        for run, sw in RUNS.items():
            out, info = train(dtype, sw)
            tensors.update({f"{run}/{k}": v for k, v in out.items()})
            runs[run] = {"switches": sw, **info}
            print(f"{str(dtype)[6:]:8} {run:12} losses {' '.join(f'{l:.6f}' for l in out['losses'].tolist())}")
        meta = {
            "torch": torch.__version__,
            "checkpoint": "tests/golden/gpt2-tiny-cls",
            "steps": str(K),
            "density": repr(DENSITY),
            "targets": json.dumps(TARGETS),
            "dense": json.dumps(DENSE),
            "lr": repr(LR),
            "weight_decay": repr(WEIGHT_DECAY),
            "betas": json.dumps(BETAS),
            "eps": repr(EPS),
            "switches": json.dumps(SWITCHES),
            "runs": json.dumps(runs),
            "margins": json.dumps(margins),
        }
        save_file(tensors, os.path.join(OUT, f"golden-{str(dtype)[6:]}.safetensors"), meta)
    print("smallest top-k margin", min(margins.values()))


if __name__ == "__main__":
    main()
