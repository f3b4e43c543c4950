namespace Res2Net.Runtime.Imaging;

/// <summary>
/// The image files <see cref="ImageDecoder"/> reads, by extension. This is the one list: the ImageFolder layout collects
/// exactly these files, and the command line's help quotes it.
/// </summary>
public static class ImageFormats
{
    /// <summary>
    /// torchvision's <c>IMG_EXTENSIONS</c> without <c>.tif</c> and <c>.tiff</c>, compared ignoring case. The decoder
    /// recognises a file by its content (as OpenCV does), not by its name; the extension only decides what a folder
    /// walk collects.
    /// </summary>
    public static readonly IReadOnlyList<string> Extensions = [".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".webp"];

    /// <summary>
    /// Extensions torchvision collects that are not decoded here. OpenCV reads TIFF through libtiff (strips, tiles, many
    /// compressions and sample layouts), and no decoder available to .NET here reproduces it, so folder walks leave these
    /// files out and count them rather than listing them as samples that can only fail.
    /// </summary>
    public static readonly IReadOnlyList<string> UnsupportedExtensions = [".tif", ".tiff"];

    /// <summary>True when <paramref name="path"/> ends in one of <see cref="Extensions"/>, ignoring case.</summary>
    public static bool IsDecodable(string path) => EndsWithAny(path, Extensions);

    /// <summary>True when <paramref name="path"/> ends in one of <see cref="UnsupportedExtensions"/>, ignoring case.</summary>
    public static bool IsUnsupported(string path) => EndsWithAny(path, UnsupportedExtensions);

    private static bool EndsWithAny(string path, IReadOnlyList<string> extensions)
    {
        ArgumentNullException.ThrowIfNull(path);
        return extensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));
    }
}
