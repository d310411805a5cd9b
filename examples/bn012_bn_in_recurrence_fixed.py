"""A sequence classifier whose custom RNN cell batch-normalizes its recurrent pre-activation.

The cell computes h_t = tanh(BN(W x_t + U h_{t-1})). Its BN layer is shared by
every time step, so one pair of moving statistics stands for all of them, while
the hidden state's distribution changes from step to step (h_0 is all zeros).
"""
import keras
from keras import layers, ops


class NormalizedRNNCell(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.input_projection = layers.Dense(units)
        self.recurrent_projection = layers.Dense(units, use_bias=False)
        self.norm = layers.LayerNormalization()

    def build(self, input_shape):
        self.input_projection.build(input_shape)
        self.recurrent_projection.build((input_shape[0], self.units))
        self.norm.build((input_shape[0], self.units))

    def call(self, inputs, states, training=None):
        h = self.input_projection(inputs) + self.recurrent_projection(states[0])
        h = ops.tanh(self.norm(h, training=training))
        return h, [h]


def build_sequence_classifier(steps=50, features=16, units=64, classes=5):
    inputs = keras.Input(shape=(steps, features))
    x = layers.RNN(NormalizedRNNCell(units))(inputs)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="sequence_classifier")


if __name__ == "__main__":
    build_sequence_classifier().summary()
