using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.Networks;
using Res2Net.Tests.Datasets;
using Res2Net.Tests.Forward;
using Xunit;

namespace Res2Net.Tests.Inference;

/// <summary>
/// The library's <c>inference_model</c> / <c>extract_feat</c> on tiny-plain with its PyTorch-saved checkpoint, against what
/// PyTorch computed for the same image files after OpenCV decoding and Pillow resizing (make_dataset_fixtures.py).
/// </summary>
public class ImageClassifierTests
{
    private static readonly Lazy<CompiledNetwork> Network = new(DatasetFixtures.TinyPlain);

    private static ImageClassifier Classifier(int batchSize = ImageClassifier.DefaultBatchSize) => new(Network.Value) { BatchSize = batchSize };

    private static string ValImage(string file) => Path.Combine(DatasetFixtures.DataDir("val"), file);

    /// <summary>
    /// How far a softmax score may be from PyTorch's. Logits may differ by δ ≤ 2e-3 (<see cref="Tolerances.LogitsAbsolute"/>);
    /// p_i = e^{z_i} / Σ e^{z_j} then moves by at most a factor e^{±2δ}, i.e. |Δp| ≤ p (e^{2δ} − 1) ≈ 4.0e-3 · p,
    /// plus float32 rounding of the softmax itself (1e-6 is far above it).
    /// </summary>
    internal static double ScoreTolerance(double p) => (Math.Exp(2 * Tolerances.LogitsAbsolute) - 1) * p + 1e-6;

    [Fact]
    public void LogitsOfThe300DatasetImagesAreWithin2e3OfPyTorch()
    {
        var expected = DatasetFixtures.Images("val");
        var (pyTorch, shape) = DatasetFixtures.Logits("val");
        Assert.Equal(new[] { 300, 10 }, shape);

        var output = Classifier().Run(expected.Select(e => InferenceInput.FromFile(ValImage(e.File))).ToArray());

        var (diff, _) = Fixtures.Compare(output.Logits, pyTorch);
        Assert.True(diff <= Tolerances.LogitsAbsolute, $"max |logit − PyTorch| = {diff:E2} > {Tolerances.LogitsAbsolute:E0}");
    }

    /// <summary>
    /// Exact labels are right here: logits agree within 2e-3 and the fixture script made every gap between consecutive
    /// logits among PyTorch's top 6 larger than 1e-2 (see <see cref="ExpectedImage.MinGap"/>), so no rank can swap.
    /// </summary>
    [Fact]
    public void PredictOnImageFilesGivesPyTorchsTop5LabelsAndScores()
    {
        var expected = DatasetFixtures.Images("val");
        Assert.All(expected, e => Assert.True(e.MinGap > 1e-2, $"{e.File}: fixture gap {e.MinGap}"));

        var predictions = Classifier().Predict(expected.Select(e => ValImage(e.File)));

        Assert.Equal(expected.Count, predictions.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var (e, p) = (expected[i], predictions[i]);
            Assert.Equal(e.TopK, p.TopK.Select(c => c.Label).ToArray());
            Assert.Equal(e.TopK[0], p.PredLabel);
            Assert.Equal(Network.Value.Info.ClassNames![e.TopK[0]], p.PredClass);
            Assert.Equal(p.PredScores[p.PredLabel], p.PredScore);
            Assert.Equal(1.0, p.PredScores.Sum(x => (double)x), 5);
            for (int j = 0; j < 5; j++)
            {
                Assert.True(Math.Abs(p.TopK[j].Score - e.Scores[j]) <= ScoreTolerance(e.Scores[j]),
                    $"{e.File} rank {j}: score {p.TopK[j].Score} vs PyTorch {e.Scores[j]}");
            }
        }
    }

    [Fact]
    public void PathStreamPixelsAndBatchGiveTheSamePrediction()
    {
        var classifier = Classifier(batchSize: 3);
        var files = DatasetFixtures.Images("val").Take(7).Select(e => ValImage(e.File)).ToArray();

        var batched = classifier.Predict(files);
        for (int i = 0; i < files.Length; i++)
        {
            var fromPath = classifier.Predict(files[i]);
            using var stream = File.OpenRead(files[i]);
            var fromStream = classifier.Predict(stream, files[i]);
            var fromPixels = classifier.Predict(ImageDecoder.Decode(files[i]));
            var fromTensor = classifier.PredictTensors(classifier.Preprocess(files[i]), 1)[0];
            foreach (var p in new[] { fromPath, fromStream, fromPixels, fromTensor })
            {
                // One image at a time or in a batch of 3: the forward runs image by image, so the results are identical.
                Assert.Equal(batched[i].PredScores, p.PredScores);
                Assert.Equal(batched[i].TopK, p.TopK);
            }
        }
    }

    [Fact]
    public void TopKIsClampedToTheClassCountAndDefaultsToFive()
    {
        var file = ValImage(DatasetFixtures.Images("val")[0].File);
        Assert.Equal(5, Classifier().Predict(file).TopK.Count);
        Assert.Single(Classifier().Predict(file, topK: 1).TopK);
        Assert.Equal(10, Classifier().Predict(file, topK: 50).TopK.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => Classifier().Predict(file, topK: 0));
    }

    [Fact]
    public void ExtractFeaturesGivesPyTorchsStemAndStageOutputs()
    {
        var file = ValImage(DatasetFixtures.Images("val")[0].File);

        var maps = Classifier().ExtractFeatures(file, 0, 1, 2, 3, 4);

        Assert.Equal(new[] { "stem", "layer1", "layer2", "layer3", "layer4" }, maps.Select(m => m.Name));
        foreach (var map in maps)
        {
            var (expected, shape) = Res2Net.Runtime.IO.Npy.Read(DatasetFixtures.Path($"val.first.{map.Name}.npy"));
            Assert.Equal(shape, map.Shape);
            var (diff, scale) = Fixtures.Compare(map.Data, expected);
            Assert.True(diff <= Tolerances.StageRelative * scale, $"{map.Name}: max |diff| {diff:E2} > {Tolerances.StageRelative:E0} × {scale:F3}");
        }
    }

    [Fact]
    public void FeaturesAreSelectedLikeOutIndicesAndStackedPerImage()
    {
        var files = DatasetFixtures.Images("val").Take(3).Select(e => ValImage(e.File)).ToArray();
        var classifier = Classifier(batchSize: 2);
        var info = Network.Value.Info;

        var defaults = classifier.ExtractFeatures(files[0]);
        Assert.Equal(new[] { 1, 2, 3, 4 }, defaults.Select(m => m.Index));

        var output = classifier.Run(files.Select(InferenceInput.FromFile).ToArray(), featureIndices: [3, 0]);
        Assert.Equal(new[] { 3, 0 }, output.Features.Select(m => m.Index));
        var layer3 = output.Feature(3);
        Assert.Equal(new[] { 3, info.Features[3].Channels, info.Features[3].Height, info.Features[3].Width }, layer3.Shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => output.Feature(1));
        for (int i = 0; i < files.Length; i++)
        {
            // Image i of the batch (which spans two forwards) is what a forward of that image alone gives.
            var alone = classifier.ExtractFeatures(files[i], 3)[0];
            Assert.Equal(alone.Data, layer3.Image(i).Data);
            Assert.Equal(alone.Shape, layer3.Image(i).Shape);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => classifier.ExtractFeatures(files[0], 5));
        Assert.Throws<ArgumentException>(() => classifier.ExtractFeatures(files[0], 2, 2));
    }

    [Fact]
    public void ClassNamesComeFromTheSpecUnlessGiven()
    {
        Assert.Equal("airplane", Classifier().ClassNames[0]);
        var named = new ImageClassifier(Network.Value, Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray());
        Assert.Equal("c" + named.Predict(ValImage(DatasetFixtures.Images("val")[0].File)).PredLabel,
            named.Predict(ValImage(DatasetFixtures.Images("val")[0].File)).PredClass);
        var e = Assert.Throws<ArgumentException>(() => new ImageClassifier(Network.Value, ["a", "b"]));
        Assert.Contains("2 class names given for tiny-plain, which has 10 classes", e.Message);
    }

    [Fact]
    public void APipelineThatDoesNotFitTheNetworkIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => new ImageClassifier(Network.Value, preprocess: PreprocessConfig.ImageNet));
        Assert.Contains("crops 224x224 but tiny-plain takes 40x48", e.Message);
    }

    [Fact]
    public void AnUndecodableImageInABatchIsReportedByNameAndNothingIsReturned()
    {
        string good = ValImage(DatasetFixtures.Images("val")[0].File);
        string corrupt = Path.Combine(DatasetFixtures.DataDir("folder"), "apple", "truncated.jpg");
        string missing = Path.Combine(DatasetFixtures.DataDir("val"), "no-such-image.jpg");

        var e = Assert.Throws<ImageDecodeException>(() => Classifier(batchSize: 2).Predict([good, good, corrupt, missing]));
        Assert.Equal(corrupt, e.FilePath);
        Assert.Contains("truncated", e.Message);
        var e2 = Assert.Throws<ImageDecodeException>(() => Classifier().Predict(missing));
        Assert.Contains("no-such-image.jpg", e2.Message);
    }

    [Fact]
    public void ATensorOfTheWrongSizeIsRefusedByName()
    {
        var e = Assert.Throws<ArgumentException>(() => Classifier().Run([InferenceInput.FromTensor(new float[10], "small")]));
        Assert.Contains("small: the tensor has 10 values; the network takes 3 x 48 x 40 = 5760", e.Message);
    }

    [Fact]
    public void AClassifierWithoutWeightsSaysSo()
    {
        var bare = new ImageClassifier(Res2Net.Tests.Networks.Res2NetModels.Create("tiny-plain"));
        var e = Assert.Throws<InvalidOperationException>(() => bare.Predict(ValImage(DatasetFixtures.Images("val")[0].File)));
        Assert.Contains("no weights are loaded", e.Message);
    }
}
