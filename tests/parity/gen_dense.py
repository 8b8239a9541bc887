"""Torch parity cases for batch norm, pooling, matmul and linear (gen_dense)."""
import torch
import torch.nn.functional as F


def _grads(out, inputs, dy):
    """Gradients of sum(out * dy) with respect to each input (None stays None)."""
    wanted = [t for t in inputs if t is not None]
    grads = iter(torch.autograd.grad(out, wanted, dy))
    return [next(grads) if t is not None else None for t in inputs]


def _batch_norm(save, name, shape, training, affine, momentum=0.1, eps=1e-5):
    c = shape[1]
    x = (torch.randn(shape) * 2.0 + 0.5).requires_grad_()
    gamma = (torch.rand(c) + 0.5).requires_grad_() if affine else None
    beta = torch.randn(c).requires_grad_() if affine else None
    rmean, rvar = torch.randn(c) * 0.1, torch.rand(c) + 0.5
    tensors = {"x": x, "running_mean": rmean.clone(), "running_var": rvar.clone()}
    if affine:
        tensors.update(gamma=gamma, beta=beta)
    y = F.batch_norm(x, rmean, rvar, gamma, beta, training=training, momentum=momentum, eps=eps)
    dy = torch.randn(shape)
    dx, dgamma, dbeta = _grads(y, [x, gamma, beta], dy)
    tensors.update(y=y, dy=dy, dx=dx, running_mean_after=rmean, running_var_after=rvar)
    if affine:
        tensors.update(dgamma=dgamma, dbeta=dbeta)
    save(name, tensors, training=int(training), affine=int(affine), momentum=momentum, eps=eps)


def _pool(save, name, kind, shape, k, s, p, ceil, include_pad=1):
    x = torch.randn(shape).requires_grad_()
    if kind == "max":
        y = F.max_pool2d(x, k, s, p, ceil_mode=bool(ceil))
    else:
        y = F.avg_pool2d(x, k, s, p, ceil_mode=bool(ceil), count_include_pad=bool(include_pad))
    dy = torch.randn(y.shape)
    (dx,) = _grads(y, [x], dy)
    # The parameters travel as a tensor: the C reader keeps at most one
    # metadata entry per top-level header entry (5 here), fewer than 8.
    params = torch.tensor([k[0], k[1], s[0], s[1], p[0], p[1], ceil, include_pad], dtype=torch.float32)
    save(name, {"x": x, "y": y, "dy": dy, "dx": dx, "params": params})


def _matmul(save, name, m, k, n, ta, tb):
    a = torch.randn((k, m) if ta else (m, k)).requires_grad_()
    b = torch.randn((n, k) if tb else (k, n)).requires_grad_()
    y = torch.matmul(a.t() if ta else a, b.t() if tb else b)
    dy = torch.randn(y.shape)
    da, db = _grads(y, [a, b], dy)
    save(name, {"a": a, "b": b, "y": y, "dy": dy, "da": da, "db": db}, trans_a=ta, trans_b=tb)


def _linear(save, name, n, i, o, bias):
    x, w = torch.randn(n, i).requires_grad_(), torch.randn(o, i).requires_grad_()
    b = torch.randn(o).requires_grad_() if bias else None
    y = F.linear(x, w, b)
    dy = torch.randn(y.shape)
    dx, dw, db = _grads(y, [x, w, b], dy)
    tensors = {"x": x, "w": w, "y": y, "dy": dy, "dx": dx, "dw": dw}
    if bias:
        tensors.update(b=b, db=db)
    save(name, tensors, bias=int(bias))


def generate(save_case):
    def save(name, tensors, **attrs):  # every case of this file is named dense_*
        save_case("dense_" + name, tensors, **attrs)

    _batch_norm(save, "bn_train_nchw", (3, 5, 4, 7), training=True, affine=True)
    _batch_norm(save, "bn_train_nc", (6, 5), training=True, affine=True, momentum=0.3)
    _batch_norm(save, "bn_train_plain", (4, 3, 2, 3), training=True, affine=False, eps=1e-3)
    _batch_norm(save, "bn_eval_nchw", (2, 4, 5, 3), training=False, affine=True)
    _batch_norm(save, "bn_eval_nc", (5, 3), training=False, affine=True)

    _pool(save, "max_k3s2p1", "max", (2, 3, 9, 11), (3, 3), (2, 2), (1, 1), 0)
    _pool(save, "max_k3s2p1_ceil", "max", (2, 3, 8, 10), (3, 3), (2, 2), (1, 1), 1)
    _pool(save, "max_k2s2_ceil", "max", (1, 2, 7, 5), (2, 2), (2, 2), (0, 0), 1)
    _pool(save, "max_rect_ceil", "max", (2, 2, 7, 6), (3, 2), (2, 1), (1, 1), 1)
    _pool(save, "avg_k3s2p1_incl", "avg", (2, 3, 9, 11), (3, 3), (2, 2), (1, 1), 0, 1)
    _pool(save, "avg_k3s2p1_excl_ceil", "avg", (2, 3, 8, 10), (3, 3), (2, 2), (1, 1), 1, 0)
    _pool(save, "avg_k3s2p1_incl_ceil", "avg", (2, 3, 8, 10), (3, 3), (2, 2), (1, 1), 1, 1)
    _pool(save, "avg_rect_excl", "avg", (2, 2, 7, 6), (3, 2), (2, 1), (1, 1), 0, 0)
    x = torch.randn(3, 4, 5, 7).requires_grad_()
    y = F.adaptive_avg_pool2d(x, 1)
    dy = torch.randn(y.shape)
    (dx,) = _grads(y, [x], dy)
    save("global_avg_pool", {"x": x, "y": y, "dy": dy, "dx": dx})

    for ta in (0, 1):
        for tb in (0, 1):
            _matmul(save, f"matmul_t{ta}{tb}", 5, 7, 3, ta, tb)
    _linear(save, "linear_bias", 6, 9, 4, True)
    _linear(save, "linear_nobias", 3, 5, 7, False)
