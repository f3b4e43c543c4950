namespace Res2Net.Runtime.Inference;

/// <summary>
/// One output of mmpretrain's <c>extract_feat</c>: the stem (<see cref="Index"/> 0, after its max-pool) or stage
/// <c>layer1</c>..<c>layer4</c> (1-4), as a float32 tensor of shape <c>[N, C, H, W]</c>, row-major (NCHW), for the
/// N images it was computed on.
/// </summary>
/// <param name="Index">0 = stem, 1-4 = layer1-layer4 (see <see cref="Networks.FeatureInfo"/>).</param>
/// <param name="Name">The PyTorch module name: <c>stem</c>, <c>layer1</c> ... <c>layer4</c>.</param>
/// <param name="Data">N × C × H × W values.</param>
/// <param name="Shape">[N, C, H, W].</param>
public sealed record FeatureMap(int Index, string Name, float[] Data, int[] Shape)
{
    /// <summary>Images in the batch (N).</summary>
    public int Count => Shape[0];

    /// <summary>Values per image: C × H × W.</summary>
    public int ElementsPerImage => Shape[1] * Shape[2] * Shape[3];

    /// <summary>Image <paramref name="n"/>'s values, C × H × W, without copying.</summary>
    public ReadOnlyMemory<float> ImageData(int n)
    {
        if ((uint)n >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(n), n, $"the batch holds {Count} images");
        return Data.AsMemory(n * ElementsPerImage, ElementsPerImage);
    }

    /// <summary>Image <paramref name="n"/> alone, as a copy of shape [1, C, H, W] (what <c>extract_feat</c> gives for one image).</summary>
    public FeatureMap Image(int n) => this with { Data = ImageData(n).ToArray(), Shape = new[] { 1, Shape[1], Shape[2], Shape[3] } };

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}
