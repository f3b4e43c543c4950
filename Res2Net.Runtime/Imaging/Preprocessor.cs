namespace Res2Net.Runtime.Imaging;

/// <summary>
/// mmpretrain's test-time preprocessing: <c>ResizeEdge</c> on the short side with Pillow's bilinear filter,
/// <c>CenterCrop</c>, then RGB float32 CHW normalised by <c>(x - mean) / std</c>. Each stage is public so that it
/// can be checked on its own against OpenCV/Pillow; <see cref="Run(RgbImage, PreprocessConfig)"/> chains them.
/// </summary>
public static class Preprocessor
{
    /// <summary>Decodes <paramref name="path"/> (see <see cref="ImageDecoder"/>) and preprocesses it.</summary>
    /// <exception cref="ImageDecodeException">The image cannot be decoded, or is too large or too elongated to preprocess.</exception>
    public static float[] Run(string path, PreprocessConfig config) => Allocating(config, tensor => Run(path, config, tensor));

    /// <summary>
    /// Decodes <paramref name="path"/> and writes its network input into <paramref name="destination"/>. The full-size
    /// pixels exist only in native memory held against the decode budget (<see cref="ImageLimits"/>) and are freed
    /// before this returns, or, for an upright baseline JPEG, are streamed from the decoder a few rows at a time
    /// (<see cref="ScanlineImage"/>); only the centre crop of the resize is computed (see <see cref="PillowBilinear"/>).
    /// </summary>
    /// <exception cref="ImageDecodeException">The image cannot be decoded, or is too large or too elongated to preprocess.</exception>
    public static void Run(string path, PreprocessConfig config, Span<float> destination)
    {
        CheckArguments(config, destination);
        using DecodedImage image = ImageDecoder.DecodeFile(path, streamRows: true);
        Run(image, config, destination, path);
    }

    /// <summary><see cref="Run(string, PreprocessConfig, Span{float})"/> for an encoded image held in memory.</summary>
    internal static void Run(byte[] encoded, string displayName, PreprocessConfig config, Span<float> destination)
    {
        CheckArguments(config, destination);
        using DecodedImage image = ImageDecoder.DecodeEncoded(encoded, displayName, streamRows: true);
        Run(image, config, destination, displayName);
    }

    /// <summary>The network input for <paramref name="image"/>: 3 x CropHeight x CropWidth floats, CHW, RGB.</summary>
    public static float[] Run(RgbImage image, PreprocessConfig config) => Allocating(config, tensor => Run(image, config, tensor));

    /// <summary>Writes the network input into <paramref name="destination"/>, which must hold exactly <see cref="PreprocessConfig.TensorLength"/> floats.</summary>
    public static unsafe void Run(RgbImage image, PreprocessConfig config, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckArguments(config, destination);
        fixed (byte* p = image.Pixels)
            Run(PixelView.Oriented(p, image.Width, image.Height, 3, 1), config, destination, null);
    }

    /// <summary>
    /// ResizeEdge, CenterCrop and Normalize, with only the crop's part of the resize computed. <paramref name="path"/>
    /// names a decoded file in errors; null for an in-memory image.
    /// </summary>
    private static void Run<TSource>(TSource image, PreprocessConfig config, Span<float> destination, string? path) where TSource : IRowSource
    {
        (long w, long h) = ShortEdgeSizeUnchecked(image.Width, image.Height, config.ResizeEdge);
        if (w > int.MaxValue || h > int.MaxValue)
        {
            string reason = $"its aspect ratio ({image.Width}x{image.Height}) is too extreme: ResizeEdge {config.ResizeEdge} would make it {w}x{h}, " +
                            $"and a side cannot exceed {int.MaxValue} pixels";
            if (path != null) throw new ImageDecodeException(path, reason);
            throw new ArgumentException($"an {image.Width}x{image.Height} image: {reason}");
        }
        CropBox box = CropBox.Centered((int)w, (int)h, config.CropWidth, config.CropHeight);
        // Validate() guarantees both sides are at least the crop after ResizeEdge.
        if (box.Width != config.CropWidth || box.Height != config.CropHeight)
            throw new InvalidOperationException($"centre crop of {w}x{h} gave {box}, not {config.CropWidth}x{config.CropHeight}");
        RgbImage cropped = PillowBilinear.ResizeWindow(image, (int)w, (int)h, box);
        Normalize(cropped, config.Mean, config.Std, destination);
    }

    private static float[] Allocating(PreprocessConfig config, Action<float[]> fill)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var tensor = new float[config.TensorLength];
        fill(tensor);
        return tensor;
    }

    private static void CheckArguments(PreprocessConfig config, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (destination.Length != config.TensorLength)
            throw new ArgumentException($"destination holds {destination.Length} floats; 3x{config.CropHeight}x{config.CropWidth} needs {config.TensorLength}", nameof(destination));
    }

    /// <summary>
    /// mmpretrain's <c>ResizeEdge(edge='short')</c> size rule: the short side becomes <paramref name="edge"/> and the long
    /// side <c>int(edge * long / short)</c>; a square image takes the width branch.
    /// </summary>
    public static (int Width, int Height) ShortEdgeSize(int width, int height, int edge)
    {
        (long w, long h) = ShortEdgeSizeUnchecked(width, height, edge);
        return (checked((int)w), checked((int)h));
    }

    private static (long Width, long Height) ShortEdgeSizeUnchecked(int width, int height, int edge)
    {
        if (width <= 0 || height <= 0 || edge <= 0)
            throw new ArgumentOutOfRangeException(nameof(edge), $"sizes must be positive (image {width}x{height}, edge {edge})");
        // Python computes int(edge * h / w) with a float division; for these magnitudes (< 2^53) the float quotient
        // never crosses an integer, so integer division truncates the same way.
        return width < height ? (edge, (long)edge * height / width) : ((long)edge * width / height, edge);
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
