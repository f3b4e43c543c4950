using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;

namespace Res2Net.Tests.Forward;

/// <summary>
/// Random weights for every tensor a network binds, from uniform distributions with the variances PyTorch's
/// initializers give, so that activations keep their size from layer to layer and no branch of a block fades into
/// rounding noise, where a bug in it would go unseen: conv weights U(±√(6 / fan_in)) (<c>kaiming_uniform_</c> with
/// ReLU gain, variance 2 / fan_in), fc weight U(±√(3 / fan_in)) (variance 1 / fan_in); BatchNorm weight and running
/// variance U(0.5, 1.5) (positive, as a trained variance is), BatchNorm bias, running mean and fc bias U(±0.2).
/// Each BatchNorm also gets PyTorch's <c>num_batches_tracked</c>, an int64 scalar that eval mode ignores.
/// A tensor's values depend only on the seed, its key and its shape, not on where the generator's state-dict table
/// lists it, so a spec keeps its weights when the generator changes.
/// </summary>
internal static class RandomWeights
{
    /// <summary>The tensors of <paramref name="info"/>'s state dict (mmpretrain keys), drawn from <paramref name="seed"/>.</summary>
    public static IReadOnlyList<CheckpointTensor> Draw(NetworkInfo info, int seed)
    {
        var tensors = new List<CheckpointTensor>();
        foreach (var entry in info.StateDict)
        {
            var shape = entry.Shape.ToArray();
            var values = new float[entry.ElementCount];
            var random = new Random(unchecked((int)(SeededWeights.Seed(entry.Key) ^ (uint)seed)));
            var (low, span) = Range(entry.Key, shape);
            for (int i = 0; i < values.Length; i++) values[i] = low + span * random.NextSingle();
            tensors.Add(new CheckpointTensor(entry.Key, shape, TensorDType.Float32, values));
            if (entry.Key.EndsWith(".running_var", StringComparison.Ordinal))
            {
                string counter = entry.Key[..^"running_var".Length] + "num_batches_tracked";
                tensors.Add(new CheckpointTensor(counter, Array.Empty<int>(), TensorDType.Int64, new[] { 1234f }));
            }
        }
        return tensors;
    }

    /// <summary>The (low, span) of a tensor's uniform distribution.</summary>
    private static (float Low, float Span) Range(string key, int[] shape)
    {
        long fanIn = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        if (shape.Length == 4) return Symmetric(Math.Sqrt(6.0 / fanIn)); // conv: kaiming_uniform_, variance 2 / fan_in
        if (shape.Length == 2) return Symmetric(Math.Sqrt(3.0 / fanIn)); // fc: variance 1 / fan_in
        if (key.EndsWith(".weight", StringComparison.Ordinal) || key.EndsWith(".running_var", StringComparison.Ordinal)) return (0.5f, 1f);
        return Symmetric(0.2); // BatchNorm bias and running mean, fc bias
    }

    private static (float Low, float Span) Symmetric(double bound) => ((float)-bound, (float)(2 * bound));
}
