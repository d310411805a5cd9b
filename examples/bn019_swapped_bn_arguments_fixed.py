"""A feature-pyramid layer whose BN momentum is fed from the epsilon attribute."""
import keras


class FeaturePyramidHead(keras.layers.Layer):
    def __init__(self, filters=256, batch_norm_momentum=0.99, batch_norm_epsilon=0.001, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.batch_norm_momentum = batch_norm_momentum
        self.batch_norm_epsilon = batch_norm_epsilon
        self.conv = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)
        self.norm = keras.layers.BatchNormalization(
            momentum=self.batch_norm_momentum,
            epsilon=self.batch_norm_epsilon,
        )

    def call(self, x):
        return keras.activations.relu(self.norm(self.conv(x)))


def build_feature_head(input_shape=(32, 32, 64)):
    inputs = keras.Input(shape=input_shape)
    return keras.Model(inputs, FeaturePyramidHead(64)(inputs))
