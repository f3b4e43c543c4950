using System.Globalization;

namespace Res2Net.Runtime.Imaging;

/// <summary>
/// The parameters of mmpretrain's test-time pipeline: <c>ResizeEdge(scale=ResizeEdge, edge='short')</c>,
/// <c>CenterCrop(crop_size=(CropWidth, CropHeight))</c>, and the data preprocessor's per-channel
/// <c>(x - Mean) / Std</c>. They are inputs rather than constants because a network spec may train at another
/// resolution (say 160x160 crops).
/// </summary>
/// <param name="ResizeEdge">The length the short side is resized to.</param>
/// <param name="CropHeight">Height of the centre crop, i.e. of the network input.</param>
/// <param name="CropWidth">Width of the centre crop.</param>
/// <param name="Mean">Three values, RGB order, on the 0..255 scale.</param>
/// <param name="Std">Three values, RGB order, on the 0..255 scale.</param>
/// <remarks>Records compare arrays by reference, so two configs with equal but distinct arrays are not <c>==</c>.</remarks>
public sealed record PreprocessConfig(int ResizeEdge, int CropHeight, int CropWidth, float[] Mean, float[] Std)
{
    /// <summary>
    /// mmpretrain's ImageNet test pipeline for these models: 256 / 224x224, mean 123.675 116.28 103.53,
    /// std 58.395 57.12 57.375. A fresh instance each time, because the arrays are mutable.
    /// </summary>
    public static PreprocessConfig ImageNet =>
        new(256, 224, 224, [123.675f, 116.28f, 103.53f], [58.395f, 57.12f, 57.375f]);

    /// <summary>Same as <see cref="ImageNet"/>.</summary>
    public static PreprocessConfig Default => ImageNet;

    /// <summary>Floats in one preprocessed image: 3 x CropHeight x CropWidth.</summary>
    public int TensorLength => 3 * CropHeight * CropWidth;

    /// <summary>Throws <see cref="ArgumentException"/> when the pipeline could not produce a CropHeight x CropWidth input.</summary>
    public void Validate()
    {
        if (ResizeEdge <= 0 || CropHeight <= 0 || CropWidth <= 0)
            throw new ArgumentException($"resize edge and crop size must be positive: {this}");
        // After ResizeEdge both sides are >= ResizeEdge. mmcv's CenterCrop clips the box to the image, so a
        // smaller image would silently give a smaller tensor than the network was built for.
        if (ResizeEdge < Math.Max(CropHeight, CropWidth))
            throw new ArgumentException(
                $"resize edge {ResizeEdge} is smaller than the {CropWidth}x{CropHeight} crop: mmcv's CenterCrop would return a smaller image than the network expects");
        if (Mean is not { Length: 3 } || Std is not { Length: 3 })
            throw new ArgumentException($"mean and std need exactly 3 values (RGB): {this}");
        foreach (float s in Std)
        {
            if (!float.IsFinite(s) || s == 0)
                throw new ArgumentException($"std values must be finite and non-zero: {this}");
        }
        foreach (float m in Mean)
        {
            if (!float.IsFinite(m))
                throw new ArgumentException($"mean values must be finite: {this}");
        }
    }

    public override string ToString() =>
        $"resize short edge {ResizeEdge}, crop {CropWidth}x{CropHeight}, mean [{Join(Mean)}], std [{Join(Std)}]";

    private static string Join(float[]? values) =>
        values is null ? "null" : string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}
