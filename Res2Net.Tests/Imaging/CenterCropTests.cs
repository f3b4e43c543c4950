using Res2Net.Runtime.Imaging;
using Xunit;

namespace Res2Net.Tests.Imaging;

/// <summary>Crop boxes against mmcv's <c>CenterCrop</c> + <c>imcrop</c>.</summary>
public class CenterCropTests
{
    [Fact]
    public void CropBox_IsIdenticalToMmcvForEveryTabulatedSize()
    {
        var mismatches = new List<string>();
        foreach (var row in ImageFixtures.Root.GetProperty("cropTable").GetProperty("rows").EnumerateArray())
        {
            int size = row[0].GetInt32(), crop = row[1].GetInt32(), offset = row[2].GetInt32(), length = row[3].GetInt32();
            CropBox box = CropBox.Centered(size, size, crop, crop);
            if ((box.X, box.Width) != (offset, length) || (box.Y, box.Height) != (offset, length))
                mismatches.Add($"size {size} crop {crop}: got {box}, mmcv ({offset}, {length})");
        }
        Assert.Empty(mismatches);
    }

    [Theory]
    [InlineData(317, 46)] // 46.5 rounds to even: the bird photo after ResizeEdge (256x317)
    [InlineData(319, 48)] // 47.5
    [InlineData(225, 0)]  // 0.5
    [InlineData(227, 2)]  // 1.5
    [InlineData(341, 58)] // 58.5
    [InlineData(342, 59)]
    [InlineData(224, 0)]
    public void CropBox_RoundsHalfToEven(int size, int expectedOffset)
    {
        Assert.Equal(expectedOffset, CropBox.Centered(size, 256, 224, 224).X);
    }

    [Theory]
    [MemberData(nameof(ImageFixtures.ImageNames), MemberType = typeof(ImageFixtures))]
    public void CropBox_IsIdenticalToMmcvForEachFixture(string file)
    {
        var (_, width, height) = ImageFixtures.Stage(file, "resized");
        var crop = ImageFixtures.Image(file).GetProperty("crop");
        var expected = new CropBox(crop.GetProperty("x").GetInt32(), crop.GetProperty("y").GetInt32(),
            crop.GetProperty("width").GetInt32(), crop.GetProperty("height").GetInt32());

        Assert.Equal(expected, CropBox.Centered(width, height, 224, 224));
    }

    [Fact]
    public void CenterCrop_ImageSmallerThanTheCrop_IsClippedLikeMmcv()
    {
        // mmcv's CenterCrop (auto_pad=False) clips the box to the image instead of padding.
        var image = new RgbImage(100, 80);
        RgbImage cropped = Preprocessor.CenterCrop(image, 224, 224);
        Assert.Equal((100, 80), (cropped.Width, cropped.Height));
        Assert.Equal(new CropBox(0, 0, 100, 80), CropBox.Centered(100, 80, 224, 224));
        Assert.Equal(new CropBox(38, 0, 224, 80), CropBox.Centered(300, 80, 224, 224));
    }

    [Fact]
    public void CenterCrop_CopiesTheCentredPixels()
    {
        var image = new RgbImage(7, 5);
        for (int i = 0; i < image.Pixels.Length; i++)
            image.Pixels[i] = (byte)i;
        RgbImage cropped = Preprocessor.CenterCrop(image, 3, 4); // x offset round(1.5) = 2, y offset 1
        Assert.Equal((4, 3), (cropped.Width, cropped.Height));
        for (int y = 0; y < 3; y++)
            Assert.Equal(image.Pixels.AsSpan(((y + 1) * 7 + 2) * 3, 12).ToArray(), cropped.Row(y).ToArray());
    }
}
