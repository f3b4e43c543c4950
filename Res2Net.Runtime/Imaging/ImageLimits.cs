using System.Globalization;

namespace Res2Net.Runtime.Imaging;

/// <summary>
/// How large an image the decoder accepts, checked from the file's header before any pixel memory is allocated.
/// <see cref="MaxPixels"/> is also the decode budget: images are decoded at the same time (by
/// <see cref="Inference.ImageClassifier"/>'s and <see cref="Datasets.DatasetEvaluator"/>'s decoding threads) only while
/// their pixels add up to at most this many, so decode memory peaks near 4 bytes × <see cref="MaxPixels"/> however
/// many threads decode (an image alone may use all of it).
/// </summary>
public static class ImageLimits
{
    /// <summary>The environment variable that sets <see cref="MaxPixels"/> (a whole number of pixels).</summary>
    public const string MaxPixelsVariable = "RES2NET_MAX_IMAGE_PIXELS";

    /// <summary>2^28 pixels, 16384 x 16384: 1 GiB of decoded RGBA.</summary>
    public const long DefaultMaxPixels = 1L << 28;

    /// <summary>The most <see cref="MaxPixels"/> can be set to: OpenCV's own <c>CV_IO_MAX_IMAGE_PIXELS</c>, 2^30.</summary>
    public const long UpperMaxPixels = 1L << 30;

    /// <summary>
    /// The longest side accepted: OpenCV's <c>CV_IO_MAX_IMAGE_WIDTH</c> and <c>CV_IO_MAX_IMAGE_HEIGHT</c>, 2^20 (so
    /// mmpretrain cannot read a longer one either). It also keeps ResizeEdge's long side within an int.
    /// </summary>
    public const int MaxSide = 1 << 20;

    private static long _set; // 0 while not set: the environment variable or the default applies

    /// <summary>
    /// Images with more pixels (width x height) are refused with an <see cref="ImageDecodeException"/> naming the file,
    /// its size and this limit. Default: <c>RES2NET_MAX_IMAGE_PIXELS</c> when it is set, else <see cref="DefaultMaxPixels"/>.
    /// Setting it applies to the whole process and overrides the variable; <see cref="ResetMaxPixels"/> goes back to it.
    /// </summary>
    /// <exception cref="FormatException">Reading it while <c>RES2NET_MAX_IMAGE_PIXELS</c> holds something other than a whole number from 1 to 2^30.</exception>
    public static long MaxPixels
    {
        get
        {
            long set = Interlocked.Read(ref _set);
            return set > 0 ? set : FromEnvironment();
        }
        set
        {
            if (value < 1 || value > UpperMaxPixels)
                throw new ArgumentOutOfRangeException(nameof(value), value, $"the pixel limit is 1 to {UpperMaxPixels} (OpenCV's own limit)");
            Interlocked.Exchange(ref _set, value);
        }
    }

    /// <summary>Makes <see cref="MaxPixels"/> follow <c>RES2NET_MAX_IMAGE_PIXELS</c> (or the default) again.</summary>
    public static void ResetMaxPixels() => Interlocked.Exchange(ref _set, 0);

    /// <summary>Refuses an image of <paramref name="width"/> x <paramref name="height"/> that is over a limit.</summary>
    /// <exception cref="ImageDecodeException">Names <paramref name="displayName"/>, the size and the limit it exceeds.</exception>
    internal static void Check(string displayName, long width, long height)
    {
        if (width <= 0 || height <= 0)
            throw new ImageDecodeException(displayName, $"invalid image size {width}x{height}");
        if (width > MaxSide || height > MaxSide)
        {
            throw new ImageDecodeException(displayName,
                $"{width}x{height} has a side longer than {MaxSide} pixels, the most OpenCV's imread (and so mmpretrain) reads");
        }
        long limit;
        try
        {
            limit = MaxPixels;
        }
        catch (FormatException e)
        {
            throw new ImageDecodeException(displayName, e.Message, e);
        }
        if (width * height > limit)
        {
            throw new ImageDecodeException(displayName,
                $"{width}x{height} is {width * height} pixels, more than the {limit}-pixel limit (raise it with {MaxPixelsVariable} or ImageLimits.MaxPixels)");
        }
    }

    private static long FromEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable(MaxPixelsVariable);
        if (string.IsNullOrWhiteSpace(text)) return DefaultMaxPixels;
        if (long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value >= 1 && value <= UpperMaxPixels)
            return value;
        throw new FormatException($"{MaxPixelsVariable} is '{(text.Length <= 40 ? text : text[..37] + "...")}'; expected a whole number of pixels from 1 to {UpperMaxPixels}");
    }
}
