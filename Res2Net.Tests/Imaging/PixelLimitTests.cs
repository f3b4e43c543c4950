using Res2Net.Runtime.Imaging;
using Xunit;

namespace Res2Net.Tests.Imaging;

/// <summary>
/// The pixel limit (<see cref="ImageLimits.MaxPixels"/>, <c>RES2NET_MAX_IMAGE_PIXELS</c>) and the decode budget that
/// bounds how many pixels are decoded at once. The limit is process-wide, so these run alone.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public class PixelLimitTests
{
    private const string Photo = "synthetic/rgb16-200x150.png"; // 30000 pixels

    [Fact]
    public void AnImageAboveTheLimitIsRefusedNamingTheFileItsSizeAndTheLimit()
    {
        string path = ImageFixtures.Path(Photo);
        ImageLimits.MaxPixels = 29_999;
        try
        {
            var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
            Assert.Equal(path, e.FilePath);
            Assert.Contains("200x150", e.Reason);
            Assert.Contains("30000 pixels", e.Reason);
            Assert.Contains("29999", e.Reason);
            Assert.Contains(ImageLimits.MaxPixelsVariable, e.Reason);
            // The same file under the limit decodes.
            ImageLimits.MaxPixels = 30_000;
            Assert.Equal(200, ImageDecoder.Decode(path).Width);
        }
        finally
        {
            ImageLimits.ResetMaxPixels();
        }
    }

    [Fact]
    public void TheLimitIsCheckedFromTheHeaderBeforeAnyPixelIsRead()
    {
        // A PPM header announcing 100000 x 100000 pixels and no pixel data: refused for its size, not as truncated.
        byte[] header = "P6\n100000 100000\n255\n"u8.ToArray();
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(header, "huge.ppm"));
        Assert.Contains("100000x100000", e.Reason);
        Assert.Contains($"{ImageLimits.DefaultMaxPixels}", e.Reason);
    }

    [Fact]
    public void TheEnvironmentVariableSetsTheLimit()
    {
        string path = ImageFixtures.Path(Photo);
        Environment.SetEnvironmentVariable(ImageLimits.MaxPixelsVariable, "1000");
        try
        {
            Assert.Equal(1000, ImageLimits.MaxPixels);
            var e = Assert.Throws<ImageDecodeException>(() => Preprocessor.Run(path, PreprocessConfig.ImageNet));
            Assert.Contains("1000-pixel limit", e.Reason);

            Environment.SetEnvironmentVariable(ImageLimits.MaxPixelsVariable, "lots");
            e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
            Assert.Contains($"{ImageLimits.MaxPixelsVariable} is 'lots'", e.Reason);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ImageLimits.MaxPixelsVariable, null);
        }
        Assert.Equal(ImageLimits.DefaultMaxPixels, ImageLimits.MaxPixels);
    }

    [Fact]
    public void TheBudgetLetsAnotherDecodeStartOnlyWhenThePixelsFit()
    {
        var budget = new DecodeBudget(() => 100);
        var first = budget.Acquire(60);
        Assert.False(budget.TryAcquire(50, out _));          // 60 + 50 > 100: waits
        Assert.True(budget.TryAcquire(40, out var second));  // 60 + 40 fits
        first.Dispose();
        second.Dispose();
        // One image larger than the whole budget still runs, alone.
        Assert.True(budget.TryAcquire(500, out var large));
        Assert.False(budget.TryAcquire(1, out _));
        large.Dispose();
        Assert.Equal(0, budget.InUse);
    }
}
