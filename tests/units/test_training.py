"""The behaviour that matters: a NAC trained on a + b in [1, 2] extrapolates to [100, 1000];
a ReLU6 MLP trained the same way fits [1, 2] and fails outside it.

Adam's second-moment decay is 0.9 rather than 0.999: the NAC's gradient shrinks as tanh and
sigmoid saturate, and a long memory of the early, larger gradients would stall W short of 1
(with the default betas W reaches only ~0.99 in 2,000 steps). lr 3e-2, 1,000 steps, batch 64
give a worst relative error of ~1e-5 on [100, 1000] for every seed tried (0-5), 100x below
the threshold.
"""
import pytest
import torch

import nalm

STEPS, LR, BETAS, BATCH = 1000, 3e-2, (0.9, 0.9), 64


def train_on_addition(model, seed):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=BETAS)
    for _ in range(STEPS):
        x = torch.rand(BATCH, 2, generator=g) + 1  # fresh U[1, 2] batch every step
        loss = torch.nn.functional.mse_loss(model(x), x.sum(1, keepdim=True))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def relative_errors(model, low, high):
    g = torch.Generator().manual_seed(12345)
    x = torch.rand(2000, 2, generator=g) * (high - low) + low
    with torch.no_grad():
        y = model(x)
    target = x.sum(1, keepdim=True)
    assert y.shape == target.shape
    return ((y - target).abs() / target.abs()).squeeze(1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nac_learns_addition_and_extrapolates(seed):
    torch.manual_seed(seed)
    nac = train_on_addition(nalm.NAC(2, 1), seed)
    err = relative_errors(nac, 100.0, 1000.0)
    assert err.max() < 1e-3, f"worst relative error {err.max():.2e} on [100, 1000]"
    torch.testing.assert_close(nac.weight.detach(), torch.ones(1, 2), rtol=0, atol=1e-3)
    # both trained matrices went into saturation: tanh(3.8) and sigmoid(6.9) are ~0.999
    assert nac.W_hat.min() > 3.8 and nac.M_hat.min() > 6.9


@pytest.mark.parametrize("hidden", [8, (8, 8)])
def test_relu6_mlp_fits_the_training_range_but_does_not_extrapolate(hidden):
    torch.manual_seed(0)
    mlp = train_on_addition(nalm.MLP(2, 1, hidden=hidden, activation="relu6"), 0)
    assert relative_errors(mlp, 1.0, 2.0).mean() < 0.05  # it did learn the task where it was trained
    err = relative_errors(mlp, 100.0, 1000.0)
    assert err.min() > 0.1, f"best relative error {err.min():.2e} on [100, 1000]"
