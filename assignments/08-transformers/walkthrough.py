# %% [markdown]
# Once `transformer.py` passes its checks, look at the positional encoding: the table
# `sinusoidal_positional_encoding(100, 64)` (one row per position, one column per dimension), and
# the dot product of every position's encoding with every other's.

# %%
import matplotlib.pyplot as plt
import torch

import attention
import transformer as tr

pe = tr.sinusoidal_positional_encoding(100, 64)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.5))
image = ax1.imshow(pe, cmap="RdBu", aspect="auto")
ax1.set_xlabel("dimension")
ax1.set_ylabel("position")
ax1.set_title("positional encoding PE[pos, i]")
fig.colorbar(image, ax=ax1)
image = ax2.imshow(pe @ pe.T, cmap="viridis")
ax2.set_xlabel("position")
ax2.set_ylabel("position")
ax2.set_title("PE[p] . PE[q]")
fig.colorbar(image, ax=ax2)
plt.tight_layout()
plt.show()

# %% [markdown]
# Train the grader's model on the toy task (reverse 3 to 6 digits), as the handout describes, and
# decode a few held-out sequences greedily.

# %%
src, tgt = tr.make_reversal_data(4000, seed=0)
test_src, test_tgt = tr.make_reversal_data(500, seed=1)
torch.manual_seed(0)
model = tr.Seq2SeqTransformer(13, 13, d_model=32, num_heads=4, num_layers=2, dim_ff=64, max_len=16)
losses = tr.train_seq2seq(model, src, tgt, steps=200, batch_size=64, lr=3e-3, seed=0)
model.eval()
decoded = tr.greedy_decode(model, test_src, 7)
print(f"held-out sequences reversed exactly: {(decoded == test_tgt).all(dim=1).float().mean():.1%}")


def show(tokens):
    """Token ids as text: digits, and <s> </s> for BOS and EOS (PAD is left out)."""
    names = {tr.BOS: "<s>", tr.EOS: "</s>"}
    return " ".join(names.get(int(t), str(int(t) - tr.NUM_SPECIAL)) for t in tokens if t != tr.PAD)


for i in range(4):
    print(f"{show(test_src[i]):>20}  ->  {show(decoded[i])}")
plt.plot(losses)
plt.xlabel("step")
plt.ylabel("training loss (cross-entropy)")
plt.show()

# %% [markdown]
# Attention maps. While the model reads one held-out example (teacher forcing), record the
# weights of every call to your `scaled_dot_product_attention`. The last call is the last decoder
# layer's cross-attention (rows: target positions, columns: source tokens); the one before it is
# that layer's masked self-attention. One heat map per head.

# %%
recorded = []
original = attention.scaled_dot_product_attention


def recording(q, k, v, mask=None):
    out, weights = original(q, k, v, mask)
    recorded.append(weights.detach())
    return out, weights


example_src, example_tgt = test_src[:1], test_tgt[:1]
attention.scaled_dot_product_attention = recording
try:
    with torch.no_grad():
        model(example_src, example_tgt[:, :-1])
finally:
    attention.scaled_dot_product_attention = original
source = show(example_src[0]).split()
target = show(example_tgt[0, :-1]).split()
fig, axes = plt.subplots(2, 4, figsize=(16, 7.5))
for row, (weights, keys, title) in enumerate([(recorded[-1], source, "cross-attention"),
                                              (recorded[-2], target, "masked self-attention")]):
    for head in range(4):
        ax = axes[row, head]
        ax.imshow(weights[0, head, :len(target), :len(keys)], cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(len(keys)), keys)
        ax.set_yticks(range(len(target)), target)
        ax.set_title(f"{title}, head {head}")
plt.tight_layout()
plt.show()
