using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Res2Net.Runtime.Inference;
using Res2Net.Tests.Datasets;
using Res2Net.Tests.Inference;
using Xunit;

namespace Res2Net.Tests.Serving;

/// <summary>
/// <c>POST /predictions/{model}</c>: images of the generated dataset (make_dataset_fixtures.py) sent to tiny-plain,
/// against PyTorch's top-5 and softmax scores for the same files, and against the library's own answer, which the
/// endpoint must give in the JSON of <c>predict --json</c>.
/// </summary>
public sealed class TorchServeApiTests : IAsyncLifetime
{
    private ServingHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await ServingHarness.StartAsync(ServingHarness.Options(maxBatch: 4, maxDelayMs: 10));

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    private static string ValImage(string file) => DatasetFixtures.Path("val/" + file);

    [Fact]
    public async Task ImagesSentTogetherGetPyTorchsTop5AndScores()
    {
        // The fixture keeps each image's top-6 logits more than 1e-2 apart, so the top-5 labels are certain under the
        // 2e-3 logit tolerance and must be PyTorch's exactly; the scores within what that tolerance allows.
        var expected = DatasetFixtures.Images("val").Take(12).ToArray();
        var classNames = DatasetFixtures.Root.GetProperty("classNames").EnumerateArray().Select(c => c.GetString()!).ToArray();

        var answers = await Task.WhenAll(expected.Select(e => _harness.PredictAsync("tiny-plain", File.ReadAllBytes(ValImage(e.File)))));

        for (int i = 0; i < expected.Length; i++)
        {
            string text = await answers[i].Content.ReadAsStringAsync();
            Assert.True(answers[i].IsSuccessStatusCode, text);
            var root = JsonDocument.Parse(text).RootElement;
            var topk = root.GetProperty("topk").EnumerateArray().ToArray();
            Assert.Equal(expected[i].TopK, topk.Select(t => t.GetProperty("label").GetInt32()));
            Assert.Equal(expected[i].TopK[0], root.GetProperty("pred_label").GetInt32());
            Assert.Equal(classNames[expected[i].TopK[0]], root.GetProperty("pred_class").GetString());
            for (int j = 0; j < 5; j++)
            {
                double score = topk[j].GetProperty("score").GetDouble();
                Assert.True(Math.Abs(score - expected[i].Scores[j]) <= ImageClassifierTests.ScoreTolerance(expected[i].Scores[j]),
                    $"{expected[i].File} rank {j}: {score} vs PyTorch {expected[i].Scores[j]}");
            }
        }
    }

    [Fact]
    public async Task TheAnswerIsTheLibrarysPredictionInPredictsJson()
    {
        var file = ValImage(DatasetFixtures.Images("val")[3].File);
        var classifier = _harness.Models[0].Classifier;
        var direct = classifier.Predict(file, topK: 3);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream)) PredictionJson.Write(w, direct);
        string expected = Encoding.UTF8.GetString(stream.ToArray());

        var raw = await _harness.PredictAsync("tiny-plain", File.ReadAllBytes(file), "?topk=3");
        Assert.Equal(expected, await raw.Content.ReadAsStringAsync());

        // The same image as curl -F data=@image.jpg sends it, and with PUT as curl -T does.
        using var form = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(file)), "data", "image.jpeg" } };
        var multipart = await _harness.Client.PostAsync("/predictions/tiny-plain?topk=3", form);
        Assert.Equal(expected, await multipart.Content.ReadAsStringAsync());
        var put = new ByteArrayContent(File.ReadAllBytes(file));
        put.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        var viaPut = await _harness.Client.PutAsync("/predictions/tiny-plain?topk=3", put);
        Assert.Equal(expected, await viaPut.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CurlsDefaultFormContentTypeOnRawBytesIsStillAnImage()
    {
        // curl --data-binary @image.jpg labels the bytes application/x-www-form-urlencoded; they are the image all the same.
        var file = ValImage(DatasetFixtures.Images("val")[0].File);
        var content = new ByteArrayContent(File.ReadAllBytes(file));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        var answer = await _harness.Client.PostAsync("/predictions/tiny-plain", content);
        string text = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.IsSuccessStatusCode, text);
        Assert.Equal(DatasetFixtures.Images("val")[0].TopK[0], JsonDocument.Parse(text).RootElement.GetProperty("pred_label").GetInt32());
    }
}
