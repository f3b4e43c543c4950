using Res2Net.Runtime.Imaging;
using Xunit;

namespace Res2Net.Tests.Imaging;

/// <summary>PPM and PGM files (torchvision lists them; mmpretrain reads them with OpenCV's PxM reader) against cv2.imread.</summary>
public class NetpbmDecoderTests
{
    [Theory]
    [MemberData(nameof(FormatFixtures.DecodedNetpbm), MemberType = typeof(FormatFixtures))]
    public void Decode_IsIdenticalToOpenCv(string file)
    {
        // Binary files keep their raw bytes (the high byte of 16-bit samples), whatever maxval says; ASCII 8-bit samples
        // are clamped to maxval and scaled by 255 / maxval. The fixtures cover both, so a "correct" Netpbm reader fails.
        RgbImage image = ImageDecoder.Decode(FormatFixtures.Path(file));
        RgbImage reference = FormatFixtures.Decoded(file);

        Assert.Equal((reference.Width, reference.Height), (image.Width, image.Height));
        Assert.Null(ImageFixtures.FirstDifference(image, reference));
    }

    [Theory]
    [MemberData(nameof(FormatFixtures.RefusedNetpbm), MemberType = typeof(FormatFixtures))]
    public void FilesOpenCvCannotReadAreRefusedWithTheirName(string file)
    {
        string path = FormatFixtures.Path(file);
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("ends early", e.Reason);
    }

    [Theory]
    [InlineData("P4\n2 2\n\0\0", "PBM")]
    [InlineData("P6\n2 2\n70000\n", "maxval")]
    [InlineData("P6\n0 2\n255\n", "size")]
    [InlineData("P6\n2 x\n255\n", "header")]
    public void MalformedHeadersAreRefused(string content, string reason)
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(System.Text.Encoding.ASCII.GetBytes(content), "bad.ppm"));
        Assert.Equal("bad.ppm", e.FilePath);
        Assert.Contains(reason, e.Reason);
    }

    [Fact]
    public void PreprocessingAPpmGivesTheSameTensorAsItsPixels()
    {
        string path = FormatFixtures.Path("p6-37x23.ppm");
        var config = PreprocessConfig.ImageNet;
        Assert.Equal(Preprocessor.Run(FormatFixtures.Decoded("p6-37x23.ppm"), config), Preprocessor.Run(path, config));
    }
}
