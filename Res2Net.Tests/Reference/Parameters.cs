using Res2Net.Runtime.Checkpoints;

namespace Res2Net.Tests.Reference;

/// <summary>
/// A state dict as the interpreter reads it: each tensor by its mmpretrain key (<c>backbone.layer1.0.conv1.weight</c>,
/// <c>head.fc.bias</c>), converted to double, with the shape the architecture implies checked. Like PyTorch's
/// <c>load_state_dict(strict=True)</c>, a network built from it must use every tensor: <see cref="Unread"/> lists
/// the ones no module asked for (BatchNorm's <c>num_batches_tracked</c> aside, which eval mode never reads).
/// </summary>
internal sealed class Parameters(IReadOnlyDictionary<string, CheckpointTensor> stateDict)
{
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    /// <summary>The tensor <paramref name="key"/>, which must have exactly <paramref name="shape"/>.</summary>
    public double[] Read(string key, params int[] shape)
    {
        if (!stateDict.TryGetValue(key, out var tensor))
            throw new KeyNotFoundException($"the state dict has no '{key}' (expected shape [{string.Join(", ", shape)}])");
        if (!tensor.Shape.SequenceEqual(shape))
            throw new ArgumentException($"'{key}' has shape {tensor.ShapeText}; the architecture needs [{string.Join(", ", shape)}]");
        _read.Add(key);
        return Array.ConvertAll(tensor.Data, v => (double)v);
    }

    /// <summary>Keys of the state dict that no module read.</summary>
    public IReadOnlyList<string> Unread =>
        stateDict.Keys.Where(k => !_read.Contains(k) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
}
