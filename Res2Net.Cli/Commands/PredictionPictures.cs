using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Visualization;

namespace Res2Net.Cli.Commands;

/// <summary>
/// mmpretrain's <c>show_dir</c> for <c>predict --out-dir</c> and <c>test --out-dir [--show-wrong]</c>: each image again,
/// full size, with its top-k classes and scores drawn on it (<see cref="PredictionPainter"/>), saved as NAME.png where
/// NAME is the image's file name (its path below the dataset folder for <c>test</c>), in an <see cref="OutputFolder"/>.
/// </summary>
internal static class PredictionPictures
{
    /// <summary>
    /// The picture's name in the folder for an image named <paramref name="relativePath"/> ('/' between folders), plus
    /// ".png". An annotation file may name images above its folder (<c>../x.jpg</c>) or by absolute path: such parts
    /// are escaped URL-style ('.' as %2E, an empty part as %2F, '%' as %25), so every picture stays inside the folder
    /// and two images never share a picture.
    /// </summary>
    public static string NameOf(string relativePath) =>
        string.Join('/', relativePath.Replace(Path.DirectorySeparatorChar, '/').Split('/').Select(part => part.Replace("%", "%25") switch
        {
            "" => "%2F",
            "." => "%2E",
            ".." => "%2E%2E",
            var p => p,
        })) + ".png";

    /// <summary>Checks the folder and every picture's file before the work; <paramref name="otherOutput"/> (e.g. --save-logits) must not be one of them.</summary>
    public static OutputFolder Prepare(DirectoryInfo folder, IEnumerable<string> relativePaths, bool force, InputFiles inputs, string? otherOutput = null)
    {
        var names = relativePaths.Select(NameOf).ToList();
        var output = OutputFolder.Prepare(folder, "--out-dir", names.Select(n => (n, OutputKind.Png)), force, inputs);
        if (otherOutput != null && names.FirstOrDefault(n => OutputPath.SameFile(output.PathOf(n), otherOutput)) is { } clash)
        {
            output.Dispose();
            throw new CliException($"{otherOutput} is also a picture that --out-dir writes ({clash}); give it another name.");
        }
        return output;
    }

    /// <summary>Decodes <paramref name="imagePath"/> again (the network saw only its crop), draws the lines and writes the PNG.</summary>
    public static void Write(OutputFolder folder, string relativePath, string imagePath, IReadOnlyList<LabelLine> lines)
    {
        var picture = PredictionPainter.Draw(ImageDecoder.Decode(imagePath), lines);
        folder.Write(NameOf(relativePath), stream => PngEncoder.Write(stream, picture.Image));
    }
}
