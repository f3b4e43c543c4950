using System.Text;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Binding;

/// <summary>
/// Deterministic weights that any engine can reproduce bit for bit (docs/seeded-weights.md): each value is a
/// function of the state-dict key and the element index only. PyTorch runs the same rule in
/// tools/reference/make_fixtures.py, so full-size networks can be compared with it without shipping
/// hundreds of megabytes of checkpoints.
/// </summary>
public static class SeededWeights
{
    /// <summary>The key the seeded network input is drawn under.</summary>
    public const string InputKey = "input";

    /// <summary>Every tensor of <paramref name="info"/>'s state dict, drawn by the rule.</summary>
    public static IReadOnlyDictionary<string, CheckpointTensor> StateDict(NetworkInfo info)
    {
        var tensors = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        foreach (var entry in info.StateDict)
        {
            var shape = entry.Shape.ToArray();
            tensors[entry.Key] = new CheckpointTensor(entry.Key, shape, TensorDType.Float32, Draw(entry.Key, shape));
        }
        return tensors;
    }

    /// <summary>The seeded input of <paramref name="batch"/> images (every image the same draw).</summary>
    public static float[] Input(NetworkInfo info, int batch = 1)
    {
        var one = Draw(InputKey, new[] { 1, 3, info.InputHeight, info.InputWidth });
        var all = new float[one.Length * batch];
        for (int n = 0; n < batch; n++) one.CopyTo(all, n * one.Length);
        return all;
    }

    /// <summary>The values of the tensor named <paramref name="key"/> with <paramref name="shape"/>.</summary>
    public static float[] Draw(string key, IReadOnlyList<int> shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[count];
        if (key.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) return values;
        var (lo, span) = Range(key, shape);
        uint seed = Seed(key);
        for (long i = 0; i < count; i++)
        {
            float u = (Hash(seed, (uint)i) >> 8) * (1f / (1 << 24));
            float t = span * u;
            values[i] = lo + t;
        }
        return values;
    }

    /// <summary>FNV-1a (32-bit) of the key's UTF-8 bytes.</summary>
    public static uint Seed(string key)
    {
        uint h = 0x811C9DC5;
        foreach (byte b in Encoding.UTF8.GetBytes(key))
        {
            h ^= b;
            h = unchecked(h * 0x01000193);
        }
        return h;
    }

    /// <summary>MurmurHash3's fmix32 of <c>seed + index · golden ratio</c>.</summary>
    public static uint Hash(uint seed, uint index)
    {
        uint x = unchecked(seed + index * 0x9E3779B9);
        x ^= x >> 16;
        x = unchecked(x * 0x85EBCA6B);
        x ^= x >> 13;
        x = unchecked(x * 0xC2B2AE35);
        x ^= x >> 16;
        return x;
    }

    /// <summary>The (lo, span) of a tensor's kind; see the table in docs/seeded-weights.md.</summary>
    public static (float Lo, float Span) Range(string key, IReadOnlyList<int> shape)
    {
        if (key == InputKey) return (-2.0f, 4.0f);
        if (key.EndsWith(".weight", StringComparison.Ordinal))
        {
            if (shape.Count is 4 or 2)
            {
                long fanIn = 1;
                for (int d = 1; d < shape.Count; d++) fanIn *= shape[d];
                float a = (float)Math.Sqrt(3.0 / fanIn);
                return (-a, 2 * a);
            }
            return (0.625f, 0.5f);
        }
        if (key.EndsWith(".bias", StringComparison.Ordinal) || key.EndsWith(".running_mean", StringComparison.Ordinal)) return (-0.1f, 0.2f);
        if (key.EndsWith(".running_var", StringComparison.Ordinal)) return (0.5f, 1.0f);
        throw new ArgumentException($"no seeded rule for key '{key}'", nameof(key));
    }
}
