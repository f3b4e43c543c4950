namespace Res2Net.Runtime.Networks;

/// <summary>
/// Collects stage outputs during a forward, like mmpretrain's <c>extract_feat</c> with <c>out_indices</c>:
/// index 0 is the stem (after its max-pool), 1-4 are <c>layer1</c>-<c>layer4</c>. Each requested output
/// is a <c>batch × C × H × W</c> array.
/// </summary>
public sealed unsafe class FeatureCapture
{
    private readonly int[] _indices;
    private readonly float[]?[] _outputs = new float[]?[5];
    private IReadOnlyList<FeatureInfo> _infos = Array.Empty<FeatureInfo>();
    private int _batch;

    /// <param name="outIndices">Which outputs to keep; default all four stages (1-4), as mmpretrain's <c>out_indices=(0, 1, 2, 3)</c> of the stages.</param>
    public FeatureCapture(params int[] outIndices)
    {
        _indices = outIndices.Length == 0 ? new[] { 1, 2, 3, 4 } : outIndices;
        foreach (int i in _indices)
        {
            if (i < 0 || i > 4) throw new ArgumentOutOfRangeException(nameof(outIndices), i, "feature indices are 0 (stem) to 4 (layer4)");
        }
    }

    /// <summary>The requested indices.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <summary>The output at <paramref name="index"/> after a forward, with its shape.</summary>
    public (float[] Data, int[] Shape) this[int index]
    {
        get
        {
            var data = _outputs[index] ?? throw new InvalidOperationException($"feature {index} was not requested or no forward has run");
            var info = _infos[index];
            return (data, new[] { _batch, info.Channels, info.Height, info.Width });
        }
    }

    internal void Prepare(NetworkInfo network, int batch)
    {
        _infos = network.Features;
        _batch = batch;
        foreach (int i in _indices)
        {
            int size = batch * _infos[i].ElementCount;
            if (_outputs[i]?.Length != size) _outputs[i] = new float[size];
        }
    }

    /// <summary>
    /// Called by generated code right after the layer that produces output <paramref name="index"/> of image
    /// <paramref name="image"/>; images of a batch may call it from different threads (disjoint slices).
    /// </summary>
    public void Capture(int index, int image, float* source)
    {
        var target = _outputs[index];
        if (target == null) return;
        int size = _infos[index].ElementCount;
        new ReadOnlySpan<float>(source, size).CopyTo(target.AsSpan(image * size, size));
    }
}
