using Res2Net.Runtime.Imaging;
using Xunit;

namespace Res2Net.Tests.Imaging;

/// <summary>Decoding against <c>cv2.imread(path, cv2.IMREAD_COLOR)</c>, converted to RGB.</summary>
public class ImageDecoderTests
{
    [Theory]
    [MemberData(nameof(ImageFixtures.ExactDecodeNames), MemberType = typeof(ImageFixtures))]
    public void Decode_IsIdenticalToOpenCv(string file)
    {
        RgbImage image = ImageDecoder.Decode(ImageFixtures.Path(file));

        var (sha, width, height) = ImageFixtures.Stage(file, "decoded");
        Assert.Equal((width, height), (image.Width, image.Height));
        if (ImageFixtures.Image(file).GetProperty("decoded").TryGetProperty("npy", out _))
            Assert.Null(ImageFixtures.FirstDifference(image, ImageFixtures.ReferenceDecoded(file)));
        Assert.Equal(sha, ImageFixtures.Sha256(image.Pixels));
    }

    [Fact]
    public void Decode_CmykJpeg_IsPillowsConversion_WithinOneLevelOfOpenCv()
    {
        // An Adobe (inverted) CMYK JPEG: libjpeg-turbo hands out the same CMYK samples to all three, then Skia and
        // Pillow compute each channel as round(c * k / 255) while OpenCV computes k - ((255 - c) * k >> 8), which is
        // one level lower for most pixels. Skia does not expose the CMYK samples, so OpenCV's rounding cannot be
        // reproduced; we pin Pillow's result exactly and OpenCV's within one level (docs/inference.md).
        const string file = "synthetic/cmyk-160x120.jpg";
        RgbImage image = ImageDecoder.Decode(ImageFixtures.Path(file));

        Assert.Null(ImageFixtures.FirstDifference(image, FormatFixtures.Npy("cmyk-pil.npy")));
        RgbImage opencv = ImageFixtures.ReferenceDecoded(file);
        int max = 0;
        for (int i = 0; i < image.Pixels.Length; i++)
            max = Math.Max(max, Math.Abs(image.Pixels[i] - opencv.Pixels[i]));
        Assert.Equal(1, max);
    }

    [Theory]
    [InlineData("synthetic/rgb16-200x150.png")]
    [InlineData("synthetic/grey16-90x120.png")]
    [InlineData("synthetic/rgba16-80x60.png")]
    public void Decode_SixteenBitPng_KeepsTheHighByte_IdenticalToOpenCv(string file)
    {
        // IMREAD_COLOR without IMREAD_ANYDEPTH strips 16-bit samples to their high byte (libpng's strip_16), and so does
        // Skia when asked for 8888; the low bytes of these fixtures are random, so a rounding conversion would show.
        RgbImage image = ImageDecoder.Decode(ImageFixtures.Path(file));
        Assert.Equal(ImageFixtures.Stage(file, "decoded").Sha256, ImageFixtures.Sha256(image.Pixels));
    }

    [Theory]
    [InlineData("synthetic/exif-orient1-48x32.jpg", 1)]
    [InlineData("synthetic/exif-orient2-48x32.jpg", 2)]
    [InlineData("synthetic/exif-orient3-48x32.jpg", 3)]
    [InlineData("synthetic/exif-orient4-48x32.jpg", 4)]
    [InlineData("synthetic/exif-orient5-48x32.jpg", 5)]
    [InlineData("synthetic/exif-orient6-48x32.jpg", 6)]
    [InlineData("synthetic/exif-orient7-48x32.jpg", 7)]
    [InlineData("synthetic/exif-orient8-48x32.jpg", 8)]
    [InlineData("synthetic/exif-orient6-48x32.png", 6)]
    [InlineData("synthetic/exif-xmp-first-48x32.jpg", 1)]
    [InlineData("demo/bird.JPEG", 1)]
    [InlineData("synthetic/exif-orient6-48x32.webp", 1)] // OpenCV 4.6 reads EXIF from JPEG and PNG only
    public void ExifOrientation_IsFoundWhereOpenCvFindsIt(string file, int expected)
    {
        Assert.Equal(expected, ExifOrientation.Read(File.ReadAllBytes(ImageFixtures.Path(file))));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Decode_ExifOrientation_IsIdenticalToOpenCvRotation(int orientation)
    {
        // All eight files hold the same JPEG scan; only the tag differs. OpenCV's rotated result is the reference.
        string file = $"synthetic/exif-orient{orientation}-48x32.jpg";
        RgbImage upright = ImageDecoder.Decode(ImageFixtures.Path(file));
        Assert.Null(ImageFixtures.FirstDifference(upright, ImageFixtures.ReferenceDecoded(file)));

        RgbImage raw = ImageDecoder.Decode(ImageFixtures.Path("synthetic/exif-orient1-48x32.jpg"));
        Assert.Null(ImageFixtures.FirstDifference(ExifOrientation.Apply(raw, orientation), upright));
        Assert.Equal(orientation >= 5 ? (32, 48) : (48, 32), (upright.Width, upright.Height));
    }

    [Fact]
    public void Decode_Stream_IsIdenticalToDecodePath()
    {
        string path = ImageFixtures.Path("demo/dog.jpg");
        using var stream = File.OpenRead(path);
        RgbImage fromStream = ImageDecoder.Decode(stream, "dog.jpg");
        Assert.Null(ImageFixtures.FirstDifference(fromStream, ImageDecoder.Decode(path)));
    }

    [Theory]
    [MemberData(nameof(ImageFixtures.CorruptNames), MemberType = typeof(ImageFixtures))]
    public void Decode_CorruptFile_ThrowsImageDecodeExceptionNamingTheFile(string name)
    {
        string path = ImageFixtures.Path("corrupt/" + name);
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(e.Reason));
    }

    [Theory]
    [MemberData(nameof(ImageFixtures.CorruptNames), MemberType = typeof(ImageFixtures))]
    public void Preprocess_CorruptFile_IsRefusedForTheSameReasonAsDecode(string name)
    {
        // Preprocessor.Run(path) streams the rows of upright JPEGs and PNGs instead of decoding them whole; it must
        // refuse exactly what Decode refuses.
        string path = ImageFixtures.Path("corrupt/" + name);
        var decode = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        var preprocess = Assert.Throws<ImageDecodeException>(() => Preprocessor.Run(path, PreprocessConfig.ImageNet));
        Assert.Equal(decode.Reason, preprocess.Reason);
    }

    [Fact]
    public void Preprocess_JpegWhoseScanStopsEarly_GivesWhatDecodeGives()
    {
        // Half a baseline JPEG with an end-of-image marker glued on: libjpeg meets the marker mid-scan and fills the
        // rest with grey (as it does for OpenCV), whether the rows are streamed (Preprocessor.Run) or decoded whole.
        byte[] half = File.ReadAllBytes(ImageFixtures.Path("corrupt/truncated-half.jpg"));
        string path = Path.Combine(Path.GetTempPath(), $"res2net-half-scan-{Guid.NewGuid():N}.jpg");
        File.WriteAllBytes(path, [.. half, 0xFF, 0xD9]);
        try
        {
            float[] streamed = Preprocessor.Run(path, PreprocessConfig.ImageNet);
            Assert.Equal(Preprocessor.Run(ImageDecoder.Decode(path), PreprocessConfig.ImageNet), streamed);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Decode_TruncatedJpeg_IsRefused_ThoughOpenCvWouldReturnAGreyFilledImage()
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ImageFixtures.Path("corrupt/truncated-half.jpg")));
        Assert.Contains("truncated", e.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("corrupt/no-eoi.jpg")]               // OpenCV decodes this one fully: it lacks only the final FF D9
    [InlineData("corrupt/truncated-progressive.jpg")] // Skia reports success on it, with pixels unlike OpenCV's
    [InlineData("corrupt/truncated-with-thumbnail.jpg")]
    public void Decode_JpegEndingBeforeItsEoiMarker_IsRefusedAsTruncated(string file)
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ImageFixtures.Path(file)));
        Assert.Contains("end-of-image marker", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_PngWithoutIend_IsRefusedLikeOpenCv()
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ImageFixtures.Path("corrupt/no-iend.png")));
        Assert.Contains("IEND", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_JpegWithStrayBytesBeforeAMarker_IsIdenticalToTheCleanFile()
    {
        // libjpeg skips (and warns about) garbage between segments, and OpenCV decodes such a file unchanged;
        // our own marker walk (EOI and EXIF lookup) must skip it too.
        string path = ImageFixtures.Path("synthetic/odd-403x301.jpg");
        byte[] clean = File.ReadAllBytes(path);
        Assert.Equal(0xE0, clean[3]); // APP0 (JFIF) first; the bytes go after it
        int afterApp0 = 4 + (clean[4] << 8 | clean[5]);
        byte[] dirty = [.. clean[..afterApp0], 0x12, 0x34, 0xFF, 0x00, .. clean[afterApp0..]];

        RgbImage image = ImageDecoder.Decode(dirty, "dirty.jpg");

        Assert.Null(ImageFixtures.FirstDifference(image, ImageDecoder.Decode(path)));
    }

    [Fact]
    public void Decode_Gif_IsRefusedAsUnsupported()
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ImageFixtures.Path("corrupt/animation.gif")));
        Assert.Contains("Gif images are not supported", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_CorruptStream_NamesTheDisplayName()
    {
        using var stream = new MemoryStream([1, 2, 3, 4, 5]);
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(stream, "upload #7"));
        Assert.Equal("upload #7", e.FilePath);
        Assert.Contains("upload #7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_MissingFile_ThrowsImageDecodeException()
    {
        string path = ImageFixtures.Path("no-such-image.jpg");
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Equal(path, e.FilePath);
        Assert.IsAssignableFrom<IOException>(e.InnerException);
    }
}
