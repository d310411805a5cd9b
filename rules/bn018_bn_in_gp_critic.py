"""BN018 bn-in-gp-critic: BatchNormalization in the critic of a WGAN-GP."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.config import Settings
from bnlint.diagnostics import Finding, Severity
from bnlint.graph import LayerGraph
from bnlint.rule import Example, Rule


class BnInGpCritic(Rule):
    code = "BN018"
    name = "bn-in-gp-critic"
    summary = "The critic of a WGAN-GP, whose gradient penalty is per sample, has BatchNormalization layers."
    severity = Severity.WARNING
    fix_safety = "none"
    doc = """
## What it does
Finds a model with `BatchNormalization` layers that the module differentiates for a
gradient penalty: called inside a `GradientTape` on a tensor the tape `watch`es
(the interpolates between real and fake samples), or on a tensor named as
interpolates. The model is matched by the function or class of the module that
builds it. Reported at the call of the critic on the interpolates.

## Why is this bad?
The gradient penalty of WGAN-GP constrains the norm of the critic's gradient with
respect to each input *separately*. A BN layer makes every output depend on the
whole batch, so the per-sample gradient the penalty measures is not the function the
critic computes, and the Lipschitz constraint is not what is enforced. Gulrajani et
al. (2017, section 4) drop BN from the critic for this reason and recommend layer
normalization.

## Fix safety
No automatic fix. Use `LayerNormalization` (the paper's suggestion), or no
normalization, in the critic; the generator may keep its BN.

## References
- Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017, section 4
  ("No critic batch normalization").
"""
    bad = Example("""
import tensorflow as tf
from tensorflow import keras

def build_critic():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(64, 4, strides=2, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.LeakyReLU(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(x)))

critic = build_critic()

def gradient_penalty(real, fake):
    alpha = tf.random.uniform([tf.shape(real)[0], 1, 1, 1])
    interpolated = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        scores = critic(interpolated, training=True)
    grads = tape.gradient(scores, [interpolated])[0]
    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))
    return tf.reduce_mean((norm - 1.0) ** 2)
""", expect=1)
    good = Example("""
import tensorflow as tf
from tensorflow import keras

def build_critic():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(64, 4, strides=2, padding="same")(inputs)
    x = keras.layers.LayerNormalization()(x)
    x = keras.layers.LeakyReLU(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(x)))

critic = build_critic()

def gradient_penalty(real, fake):
    alpha = tf.random.uniform([tf.shape(real)[0], 1, 1, 1])
    interpolated = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        scores = critic(interpolated, training=True)
    grads = tape.gradient(scores, [interpolated])[0]
    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))
    return tf.reduce_mean((norm - 1.0) ** 2)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        for penalty in graph.facts.training.penalties:
            if penalty.built_by not in graph.facts.training.bn_builders:
                continue  # only a critic its own builder shows to have BN: never the generator's by mistake
            yield Finding(penalty.origin, f"the critic `{penalty.critic}` of this gradient penalty has "
                                          "BatchNormalization layers: "
                                          "BN couples the samples of a batch, so the per-sample gradient norm the "
                                          "penalty constrains is not the critic's (use LayerNormalization)")
