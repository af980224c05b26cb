"""Structured pruning: slice whole channels and units out of layers, so the exported graph really shrinks."""
from __future__ import annotations

import torch
from torch import nn


def keep_indices(weight: torch.Tensor, ratio: float, minimum: int = 4) -> torch.Tensor:
    """Indices of the output channels (dim 0) to keep: the strongest by L1 norm, in their original order."""
    n = weight.shape[0]
    keep = max(minimum, n - int(round(n * ratio))) if n > minimum else n
    norms = weight.detach().abs().reshape(n, -1).sum(dim=1)
    return torch.sort(torch.topk(norms, keep).indices).values


def slice_conv(conv: nn.Conv2d | nn.Conv3d, in_keep=None, out_keep=None):
    """A new convolution with only the kept input and output channels (groups must be 1)."""
    w = conv.weight.detach()
    if out_keep is not None:
        w = w[out_keep]
    if in_keep is not None:
        w = w[:, in_keep]
    new = type(conv)(w.shape[1], w.shape[0], conv.kernel_size, stride=conv.stride, padding=conv.padding,
                     dilation=conv.dilation, bias=conv.bias is not None)
    new.weight.data.copy_(w)
    if conv.bias is not None:
        new.bias.data.copy_(conv.bias.detach() if out_keep is None else conv.bias.detach()[out_keep])
    return new


def slice_batchnorm(bn: nn.BatchNorm2d | nn.BatchNorm3d, keep) -> nn.Module:
    new = type(bn)(len(keep), eps=bn.eps, momentum=bn.momentum)
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(new, name).data.copy_(getattr(bn, name).detach()[keep])
    return new


def slice_linear(linear: nn.Linear, in_keep=None, out_keep=None) -> nn.Linear:
    w = linear.weight.detach()
    if out_keep is not None:
        w = w[out_keep]
    if in_keep is not None:
        w = w[:, in_keep]
    new = nn.Linear(w.shape[1], w.shape[0], bias=linear.bias is not None)
    new.weight.data.copy_(w)
    if linear.bias is not None:
        new.bias.data.copy_(linear.bias.detach() if out_keep is None else linear.bias.detach()[out_keep])
    return new


def slice_gru_input(gru: nn.GRU, in_keep) -> nn.GRU:
    """A one-layer GRU reading only the kept input features (its hidden size stays)."""
    if gru.num_layers != 1:
        raise ValueError("slice_gru_input handles one-layer GRUs")
    new = nn.GRU(len(in_keep), gru.hidden_size, batch_first=gru.batch_first, bias=gru.bias)
    new.load_state_dict({k: (v[:, in_keep] if k == "weight_ih_l0" else v) for k, v in gru.state_dict().items()})
    return new


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def prune(model: nn.Module, ratio: float) -> nn.Module:
    """Structured pruning in place: the model's own prune() where it knows its channel graph, else an MLP's hidden units."""
    if hasattr(model, "prune"):
        return model.prune(ratio)
    net = getattr(model, "net", None)
    linears = [i for i, m in enumerate(net) if isinstance(m, nn.Linear)] if isinstance(net, nn.Sequential) else []
    if len(linears) < 2:
        raise ValueError(f"{type(model).__name__} has no structured-pruning rule")
    keep = None
    for n, i in enumerate(linears):
        last = n == len(linears) - 1
        out_keep = None if last else keep_indices(net[i].weight, ratio)
        net[i] = slice_linear(net[i], in_keep=keep, out_keep=out_keep)
        keep = out_keep
    return model


def fine_tune(model: nn.Module, inputs: dict, labels, epochs: int = 20, seed: int = 0, lr: float = 1e-3,
              batch: int = 32) -> nn.Module:
    """A short Adam + cross-entropy pass over labelled data, to recover what pruning took."""
    import numpy as np

    generator = torch.Generator().manual_seed(seed)
    x = [torch.from_numpy(np.asarray(v)) for v in inputs.values()]
    y = torch.from_numpy(np.asarray(labels))
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        for i in range(0, len(y), batch):
            index = order[i:i + batch]
            out = model(*[v[index] for v in x])
            loss = nn.functional.cross_entropy(out[-1] if isinstance(out, tuple) else out, y[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()
