namespace Res2Net.Tests.Reference;

/// <summary>Where a sliding window (conv or pool) lands: PyTorch's output-size rule.</summary>
internal static class Window
{
    /// <summary>
    /// Outputs along one axis of <paramref name="size"/> inputs, as PyTorch's <c>pooling_output_shape</c> counts
    /// them (and conv's, which is the floor case): <c>⌊(size + 2p − k) / s⌋ + 1</c>, or with <paramref name="ceilMode"/>
    /// <c>⌈…⌉ + 1</c>, less one if the last window would start in the right padding (it must start inside the image
    /// or the left padding).
    /// </summary>
    public static int OutputSize(int size, int kernel, int stride, int padding, bool ceilMode = false)
    {
        int span = size + 2 * padding - kernel;
        if (span < 0) throw new ArgumentException($"a {kernel}-wide window does not fit {size} inputs with padding {padding}");
        int outputs = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
        if (ceilMode && (outputs - 1) * stride >= size + padding) outputs--;
        return outputs;
    }
}
