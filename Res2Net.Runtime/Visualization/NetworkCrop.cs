using Res2Net.Runtime.Imaging;

namespace Res2Net.Runtime.Visualization;

/// <summary>
/// The pixels the network saw: a preprocessed input turned back into the 8-bit crop it was normalized from. The
/// normalization <c>(x − mean) / std</c> is done in float32 on integers 0..255, so <c>v · std + mean</c> lands within
/// about 1e-4 of the integer and rounding recovers the crop exactly; for a tensor that did not come from an image
/// (a hand-made .npy), values are clamped to 0..255.
/// </summary>
public static class NetworkCrop
{
    /// <summary>The crop behind <paramref name="tensor"/> (3 × H × W, CHW, normalized with <paramref name="config"/>).</summary>
    public static RgbImage FromTensor(ReadOnlySpan<float> tensor, PreprocessConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int w = config.CropWidth, h = config.CropHeight, plane = w * h;
        if (tensor.Length != config.TensorLength)
            throw new ArgumentException($"{tensor.Length} values are not 3 x {h} x {w}", nameof(tensor));
        var image = new RgbImage(w, h);
        var pixels = image.Pixels;
        for (int c = 0; c < 3; c++)
        {
            float mean = config.Mean[c], std = config.Std[c];
            var channel = tensor.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++)
            {
                float v = channel[i] * std + mean;
                pixels[3 * i + c] = float.IsNaN(v) ? (byte)0 : (byte)Math.Clamp(MathF.Round(v), 0, 255);
            }
        }
        return image;
    }
}
