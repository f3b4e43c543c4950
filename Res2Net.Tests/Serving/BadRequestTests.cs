using System.Net.Http.Headers;
using System.Text;
using Res2Net.Tests.Datasets;
using Xunit;

namespace Res2Net.Tests.Serving;

/// <summary>One bad request: what is sent, the status it must get, and fragments its JSON error must hold.</summary>
public sealed record BadRequest(string Case, Func<HttpClient, Task<HttpResponseMessage>> Send, int Status, params string[] Expected);

/// <summary>
/// Every kind of bad request against one server: each is answered with its status and a JSON body
/// (<c>{"error": "…"}</c>) that names the problem, and the server answers a good request right after.
/// </summary>
public sealed class BadRequestTests : IAsyncLifetime
{
    /// <summary>The test server's body limit: small, so that the 413 row needs no large upload.</summary>
    private const int BodyLimit = 256 << 10;

    private ServingHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await ServingHarness.StartAsync(ServingHarness.Options(maxBatch: 4, maxBody: BodyLimit));

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    private const string Infer = "/v2/models/tiny-plain/infer";

    private static Func<HttpClient, Task<HttpResponseMessage>> Post(string text, string path = Infer) =>
        client => client.PostAsync(path, ServingHarness.Json(text));

    private static Func<HttpClient, Task<HttpResponseMessage>> PostImage(byte[] bytes, string query = "") => client =>
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        return client.PostAsync("/predictions/tiny-plain" + query, content);
    };

    /// <summary>An infer request whose one tensor has these fields (JSON text, spliced in as given).</summary>
    private static string Tensor(string name = "\"input\"", string shape = "[1, 3, 48, 40]", string datatype = "\"FP32\"", string? data = null) =>
        $"{{\"inputs\": [{TensorObject(name, shape, datatype, data)}]}}";

    private static string TensorObject(string name = "\"input\"", string shape = "[1, 3, 48, 40]", string datatype = "\"FP32\"", string? data = null) =>
        $"{{\"name\": {name}, \"shape\": {shape}, \"datatype\": {datatype}, \"data\": {data ?? Zeros(5760)}}}";

    private static string Zeros(int count) => "[" + string.Join(",", Enumerable.Repeat("0", count)) + "]";

    private static byte[] DemoImage => File.ReadAllBytes(DatasetFixtures.Path("val/" + DatasetFixtures.Images("val")[0].File));

    public static readonly IReadOnlyList<BadRequest> Rows =
    [
        new("malformed JSON", Post("{\"inputs\": [{\"name\": \"input\", "), 400, "not valid JSON"),
        new("not an object", Post("[1, 2, 3]"), 400, "must be a JSON object"),
        new("empty body", Post(""), 400, "no body"),
        new("unknown field", Post("{\"input\": []}"), 400, "unknown field \"input\"", "\"inputs\""),
        new("no inputs", Post("{\"id\": \"x\"}"), 400, "no \"inputs\"", "[N, 3, 48, 40]"),
        new("wrong dtype", Post(Tensor(datatype: "\"FP64\"")), 400, "inputs[0].datatype is \"FP64\"", "takes FP32"),
        new("wrong shape", Post(Tensor(shape: "[1, 3, 40, 48]")), 400, "inputs[0].shape is [1, 3, 40, 48]", "[N, 3, 48, 40]"),
        new("three dimensions", Post(Tensor(shape: "[3, 48, 40]")), 400, "inputs[0].shape is [3, 48, 40]"),
        new("batch over --max-batch", Post(Tensor(shape: "[5, 3, 48, 40]", data: Zeros(5 * 5760))), 400, "5 images are more than the 4", "--max-batch"),
        new("data shorter than the shape", Post(Tensor(data: Zeros(5759))), 400, "inputs[0].data holds 5759 values", "needs 5760"),
        new("data past a full batch", Post(Tensor(data: Zeros(4 * 5760 + 1))), 400, "more than 23040 values"),
        new("a string in the data", Post(Tensor(data: "[1, \"2\"]")), 400, "inputs[0].data: value 1 is the string \"2\"", "JSON numbers"),
        new("a value past float32", Post(Tensor(data: "[1e39]")), 400, "value 0 (the number 1e39) is not a finite float32"),
        new("a negative dimension", Post(Tensor(shape: "[-1, 3, 48, 40]")), 400, "inputs[0].shape[0] is the number -1"),
        new("wrong input name", Post(Tensor(name: "\"image\"")), 400, "inputs[0].name is \"image\"", "\"input\""),
        new("two inputs", Post($"{{\"inputs\": [{TensorObject()}, {TensorObject()}]}}"), 400, "more than one tensor"),
        new("a tensor without a name", Post("{\"inputs\": [{\"shape\": [1, 3, 48, 40]}]}"), 400, "inputs[0] has no \"name\""),
        new("unknown output", Post("{\"inputs\": [], \"outputs\": [{\"name\": \"probabilities\"}]}"), 400, "outputs[0].name is \"probabilities\"", "\"logits\""),
        new("binary tensor extension", client =>
        {
            var content = ServingHarness.Json(Tensor());
            content.Headers.Add("Inference-Header-Content-Length", "10");
            return client.PostAsync(Infer, content);
        }, 400, "binary tensor extension"),
        new("unknown model", Post(Tensor(), "/v2/models/resnet50/infer"), 404, "unknown model 'resnet50'", "tiny-plain, tiny-deep"),
        new("unknown model's metadata", client => client.GetAsync("/v2/models/resnet50"), 404, "unknown model 'resnet50'"),
        new("unknown model's image endpoint", client => client.PostAsync("/predictions/resnet50", new ByteArrayContent(DemoImage)), 404, "unknown model"),
        new("unknown path", client => client.GetAsync("/v1/models/tiny-plain"), 404, "no endpoint at GET /v1/models/tiny-plain", "/v2/models/{model}/infer"),
        new("wrong method", client => client.GetAsync(Infer), 405, "does not take GET", "POST"),
        new("body over the limit", client =>
        {
            // Content-Length over the limit: refused before the body is read (Expect: 100-continue lets the client wait for that).
            var content = new ByteArrayContent(new byte[BodyLimit + 1]);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var request = new HttpRequestMessage(HttpMethod.Post, Infer) { Content = content };
            request.Headers.ExpectContinue = true;
            return client.SendAsync(request);
        }, 413, $"larger than the server's limit of {BodyLimit} bytes"),
        new("corrupt image", PostImage(File.ReadAllBytes(Fixtures.Path("images", "corrupt", "truncated-half.jpg"))), 400, "cannot be decoded"),
        new("not an image", PostImage(Encoding.UTF8.GetBytes("hello, world")), 400, "cannot be decoded"),
        // A PPM header announcing 100000 x 100000 pixels: refused by the decoder's pixel limit before any pixel memory exists.
        new("huge image", PostImage("P6\n100000 100000\n255\n"u8.ToArray()), 400, "100000x100000", "pixel limit", "RES2NET_MAX_IMAGE_PIXELS"),
        new("empty image", PostImage([]), 400, "no body"),
        new("topk out of range", PostImage(DemoImage, "?topk=11"), 400, "topk is '11'", "1 to 10"),
        new("topk not a number", PostImage(DemoImage, "?topk=five"), 400, "topk is 'five'"),
        new("form without a file", client => client.PostAsync("/predictions/tiny-plain", new MultipartFormDataContent { { new StringContent("x"), "note" } }),
            400, "the form holds no file"),
        new("form with two files", client => client.PostAsync("/predictions/tiny-plain",
            new MultipartFormDataContent { { new ByteArrayContent(DemoImage), "a", "a.jpg" }, { new ByteArrayContent(DemoImage), "b", "b.jpg" } }),
            400, "2 files", "one image per request"),
    ];

    public static TheoryData<string> Cases => new(Rows.Select(r => r.Case));

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task IsAnsweredWithItsStatusAndAJsonErrorAndTheServerGoesOn(string @case)
    {
        var row = Rows.Single(r => r.Case == @case);

        var (status, message) = await ServingHarness.ErrorAsync(await row.Send(_harness.Client));

        Assert.Equal(row.Status, status);
        foreach (string fragment in row.Expected) Assert.Contains(fragment, message);
        // The server still answers, on a fresh connection (a 413 closes its own).
        var (input, shape) = Fixtures.Npy("tiny-plain.input.npy");
        using var client = new HttpClient { BaseAddress = _harness.Client.BaseAddress };
        var good = await client.PostAsync(Infer, ServingHarness.InferBody(input, shape));
        Assert.True(good.IsSuccessStatusCode, await good.Content.ReadAsStringAsync());
        Assert.Equal(0, await _harness.MetricAsync("res2net_queue_depth{model=\"tiny-plain\"}"));   // every refused request gave its place back
    }

    [Fact]
    public void CaseNamesAreUnique() => Assert.Equal(Rows.Count, Rows.Select(r => r.Case).Distinct().Count());
}
