namespace Res2Net.Runtime.Imaging;

/// <summary>
/// mmpretrain's test-time preprocessing: <c>ResizeEdge</c> on the short side with Pillow's bilinear filter,
/// <c>CenterCrop</c>, then RGB float32 CHW normalised by <c>(x - mean) / std</c>. Each stage is public so that it
/// can be checked on its own against OpenCV/Pillow; <see cref="Run(RgbImage, PreprocessConfig)"/> chains them.
/// </summary>
public static class Preprocessor
{
    /// <summary>Decodes <paramref name="path"/> (see <see cref="ImageDecoder"/>) and preprocesses it.</summary>
    /// <exception cref="ImageDecodeException">The image cannot be decoded.</exception>
    public static float[] Run(string path, PreprocessConfig config) => Run(ImageDecoder.Decode(path), config);

    /// <summary>The network input for <paramref name="image"/>: 3 x CropHeight x CropWidth floats, CHW, RGB.</summary>
    public static float[] Run(RgbImage image, PreprocessConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var result = new float[config.TensorLength];
        Run(image, config, result);
        return result;
    }

    /// <summary>Writes the network input into <paramref name="destination"/>, which must hold exactly <see cref="PreprocessConfig.TensorLength"/> floats.</summary>
    public static void Run(RgbImage image, PreprocessConfig config, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (destination.Length != config.TensorLength)
            throw new ArgumentException($"destination holds {destination.Length} floats; 3x{config.CropHeight}x{config.CropWidth} needs {config.TensorLength}", nameof(destination));

        RgbImage resized = ResizeShortEdge(image, config.ResizeEdge);
        RgbImage cropped = CenterCrop(resized, config.CropHeight, config.CropWidth);
        // Validate() guarantees both sides are at least the crop after ResizeEdge.
        if (cropped.Width != config.CropWidth || cropped.Height != config.CropHeight)
            throw new InvalidOperationException($"centre crop of {resized} gave {cropped}, not {config.CropWidth}x{config.CropHeight}");
        Normalize(cropped, config.Mean, config.Std, destination);
    }

    /// <summary>
    /// mmpretrain's <c>ResizeEdge(edge='short')</c> size rule: the short side becomes <paramref name="edge"/> and the long
    /// side <c>int(edge * long / short)</c>; a square image takes the width branch.
    /// </summary>
    public static (int Width, int Height) ShortEdgeSize(int width, int height, int edge)
    {
        if (width <= 0 || height <= 0 || edge <= 0)
            throw new ArgumentOutOfRangeException(nameof(edge), $"sizes must be positive (image {width}x{height}, edge {edge})");
        // Python computes int(edge * h / w) with a float division; for these magnitudes (< 2^53) the float quotient
        // never crosses an integer, so integer division truncates the same way.
        return width < height
            ? (edge, checked((int)((long)edge * height / width)))
            : (checked((int)((long)edge * width / height)), edge);
    }

    /// <summary>Resizes so that the short side is <paramref name="edge"/> (Pillow BILINEAR, bit-exact).</summary>
    public static RgbImage ResizeShortEdge(RgbImage image, int edge)
    {
        ArgumentNullException.ThrowIfNull(image);
        (int w, int h) = ShortEdgeSize(image.Width, image.Height, edge);
        return PillowBilinear.Resize(image, w, h);
    }

    /// <summary>mmcv's <c>CenterCrop</c>; the result is smaller than requested when the image is (see <see cref="CropBox.Centered"/>).</summary>
    public static RgbImage CenterCrop(RgbImage image, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Crop(image, CropBox.Centered(image.Width, image.Height, width, height));
    }

    /// <summary>Copies <paramref name="box"/> out of <paramref name="image"/>.</summary>
    public static RgbImage Crop(RgbImage image, CropBox box)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (box.X < 0 || box.Y < 0 || box.Width <= 0 || box.Height <= 0 || box.X + box.Width > image.Width || box.Y + box.Height > image.Height)
            throw new ArgumentOutOfRangeException(nameof(box), $"{box} is not inside {image}");
        var result = new RgbImage(box.Width, box.Height);
        for (int y = 0; y < box.Height; y++)
            image.Pixels.AsSpan(((box.Y + y) * image.Width + box.X) * 3, box.Width * 3).CopyTo(result.Row(y));
        return result;
    }

    /// <summary>
    /// RGB HWC bytes to float32 CHW <c>(x - mean[c]) / std[c]</c>, computed in single precision like PyTorch's
    /// float32 tensors (a subtraction then a true division, both correctly rounded, so results are bit-identical).
    /// </summary>
    public static void Normalize(RgbImage image, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (mean.Length != 3 || std.Length != 3)
            throw new ArgumentException($"mean and std need 3 values each, got {mean.Length} and {std.Length}");
        int plane = image.Width * image.Height;
        if (destination.Length != 3 * plane)
            throw new ArgumentException($"destination holds {destination.Length} floats; 3x{image.Height}x{image.Width} needs {3 * plane}", nameof(destination));

        byte[] px = image.Pixels;
        for (int c = 0; c < 3; c++)
        {
            float m = mean[c], s = std[c];
            Span<float> channel = destination.Slice(c * plane, plane);
            for (int i = 0, p = c; i < plane; i++, p += 3)
                channel[i] = (px[p] - m) / s;
        }
    }

    /// <summary>Allocating form of <see cref="Normalize(RgbImage, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>.</summary>
    public static float[] Normalize(RgbImage image, ReadOnlySpan<float> mean, ReadOnlySpan<float> std)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = new float[3 * image.Width * image.Height];
        Normalize(image, mean, std, result);
        return result;
    }
}
